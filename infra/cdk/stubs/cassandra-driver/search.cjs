// lib/datastax/search: DSE Search's DateRange type, tested with `instanceof` by the encoder (see geometry.cjs).
'use strict';
const { leftOutClass, leftOutNamespace } = require('./left-out.cjs');

const feature = 'DSE search types (DateRange)';
module.exports = {
  DateRange: leftOutClass(feature),
  DateRangeBound: leftOutClass(feature),
  dateRangePrecision: leftOutNamespace(feature),
};
