// The API Gateway backend example: a server that trusts a truststore and
// requires a client certificate. Prints "ready" once listening.
//   node mtls_server.js PORT SERVER_CERT SERVER_KEY TRUSTSTORE
'use strict';
const https = require('https');
const fs = require('fs');
const [, , port, cert, key, ca] = process.argv;
const server = https.createServer({
  cert: fs.readFileSync(cert),
  key: fs.readFileSync(key),
  ca: fs.readFileSync(ca),
  requestCert: true,
  rejectUnauthorized: true,
}, (req, res) => {
  res.writeHead(200);
  res.end('ok\n');
});
server.listen(Number(port), '127.0.0.1', () => console.log('ready'));
setTimeout(() => process.exit(0), 60000).unref();
