// lib/mapping: the object mapper (Mapper, ModelMapper, q). This service writes its own prepared CQL.
'use strict';
const { leftOutClass, leftOutNamespace } = require('./left-out.cjs');

const feature = "cassandra-driver's object mapper (mapping)";
module.exports = {
  Mapper: leftOutClass(feature),
  ModelMapper: leftOutClass(feature),
  ModelBatchMapper: leftOutClass(feature),
  ModelBatchItem: leftOutClass(feature),
  Result: leftOutClass(feature),
  TableMappings: leftOutClass(feature),
  DefaultTableMappings: leftOutClass(feature),
  UnderscoreCqlToCamelCaseMappings: leftOutClass(feature),
  q: leftOutNamespace(feature),
};
