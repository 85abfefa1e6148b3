// cassandra-driver requires adm-zip at load time only to read DataStax Astra "secure connect bundles",
// which a ScyllaDB deployment never uses. This stand-in keeps 37 KB out of every Scylla bundle and fails
// loudly if a secure connect bundle is ever configured.
module.exports = class AdmZipUnavailable {
  constructor() {
    throw new Error('Secure connect bundles are not supported in this build (adm-zip is left out of the Lambda bundle)');
  }
};
