// pg/lib/native: the libpq client, reached only through `pg.native` or NODE_PG_FORCE_NATIVE and needing the
// pg-native package, which is not installed. This stand-in fails as a missing module does, which pg expects.
'use strict';
const error = new Error("Cannot find module 'pg-native' (the native PostgreSQL client is left out of this Lambda bundle)");
error.code = 'MODULE_NOT_FOUND';
throw error;
