// Stand-ins for the parts of cassandra-driver that never run against Cassandra or ScyllaDB (DataStax
// Enterprise and Astra features): they load, so the driver's own modules that require them still load, and
// they fail loudly, naming what is missing, if anything ever uses them. See infra/build/lean-bundle.ts.
'use strict';

const message = (feature) => `${feature} is left out of this Lambda bundle (it serves DataStax Enterprise or Astra only; see infra/build/lean-bundle.ts)`;

/** A class that can stand on the right of `instanceof` (the encoder tests values against it) but not be built. */
function leftOutClass(feature) {
  return class LeftOut {
    constructor() {
      throw new Error(message(feature));
    }
    static fromBuffer() {
      throw new Error(message(feature));
    }
  };
}

/** A namespace whose every member throws when read. */
function leftOutNamespace(feature) {
  return new Proxy(
    {},
    {
      get(_, name) {
        // Module interop and inspection probe these; answering them is not using the feature.
        if (typeof name === 'symbol' || name === '__esModule' || name === 'then' || name === 'toJSON') return undefined;
        throw new Error(message(`${feature} (${String(name)})`));
      },
    },
  );
}

module.exports = { leftOutClass, leftOutNamespace, message };
