// lib/insights-client: reports to DSE Insights, and turns itself off unless the connected node is DSE 6.7+
// (`_dseSupportsInsights`). Against Cassandra or ScyllaDB the original does nothing either.
'use strict';

module.exports = class InsightsClientLeftOut {
  init() {}
  shutdown() {}
};
