// A Cosmos DB SQL API server for tests and local runs, on 127.0.0.1 only.
//
//   node cosmos-server.js [port]      (port 0 or none: any free port)
//
// Prints "listening <port>" once it accepts connections. Compared with the package's CLI:
// it binds loopback only, keeps connections alive (the CLI closes each one, so every client
// request paid a TLS handshake: ~40 requests/s instead of ~800), and answers a read of a
// missing document with 404 as Cosmos DB does (the package's handler throws a TypeError
// there, which it turns into a 500).
"use strict";

// patched before the package's routes table is built (it copies the handlers when loaded)
const readDocument = require("@vercel/cosmosdb-server/lib/handler/read-document");
const readOriginal = readDocument.default;
readDocument.default = (account, req, res, params) => {
  try {
    return readOriginal(account, req, res, params);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    res.statusCode = 404;
    return { code: "NotFound", message: "Entity with the specified id does not exist in the system." };
  }
};

const { createHttpsServer } = require("@vercel/cosmosdb-server");
const server = createHttpsServer({ keepAlive: true });
server.keepAliveTimeout = 60000;
server.listen(Number(process.argv[2] || 0), "127.0.0.1", () => {
  console.log(`listening ${server.address().port}`);
});
// a stop signal ends it at once: its data lives in memory only, and server.close() waited for
// kept-alive clients (the Azure SDK's connection held it until the caller's 30 s ran out)
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
