// lib/geometry: DSE's geospatial types. The encoder tests values with `instanceof` against these classes, so
// they exist; no value ever is one, and decoding a DSE geometry column throws.
'use strict';
const { leftOutClass } = require('./left-out.cjs');

const feature = 'DSE geometry types';
module.exports = {
  Geometry: leftOutClass(feature),
  LineString: leftOutClass(feature),
  Point: leftOutClass(feature),
  Polygon: leftOutClass(feature),
};
