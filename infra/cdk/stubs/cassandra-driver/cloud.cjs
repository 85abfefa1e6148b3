// lib/datastax/cloud: Astra's secure connect bundle, read by Client#connect only when `cloud` is configured.
'use strict';
const { message } = require('./left-out.cjs');

module.exports = {
  async init(options) {
    if (options.cloud) throw new Error(message('Astra secure connect bundles (the `cloud` option)'));
  },
  checkServerIdentity() {
    throw new Error(message('Astra secure connect bundles (checkServerIdentity)'));
  },
};
