// lib/auth/dse-gssapi-auth-provider and dse-plain-text-auth-provider: DSE's authenticators (Kerberos and
// DseAuthenticator). This service authenticates with PlainTextAuthProvider.
'use strict';
const { leftOutClass } = require('./left-out.cjs');

module.exports = leftOutClass('DSE authentication providers');
