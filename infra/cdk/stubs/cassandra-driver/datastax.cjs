// lib/datastax: the `datastax` namespace (DSE graph and search) the driver's index exports.
'use strict';
const { leftOutNamespace } = require('./left-out.cjs');

module.exports = {
  graph: leftOutNamespace('DSE graph'),
  // The same (stand-in) module the encoder requires.
  search: require('cassandra-driver/lib/datastax/search'),
};
