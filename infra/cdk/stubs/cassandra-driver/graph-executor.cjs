// lib/datastax/graph/graph-executor: every Client builds one; only Client#executeGraph (DSE graph) uses it.
'use strict';
const { message } = require('./left-out.cjs');

module.exports = class GraphExecutorLeftOut {
  send() {
    return Promise.reject(new Error(message('DSE graph (executeGraph)')));
  }
};
