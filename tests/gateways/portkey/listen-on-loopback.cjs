// Preloaded with `node --require` into the Portkey gateway: it calls serve() without a hostname,
// so Node would listen on every interface. This pins every TCP listen of the process to loopback.
'use strict';
const net = require('node:net');

const HOST = '127.0.0.1';
const listen = net.Server.prototype.listen;

function isPort(value) {
  return typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value));
}

net.Server.prototype.listen = function listenOnLoopback(...args) {
  if (args[0] !== null && typeof args[0] === 'object' && !Array.isArray(args[0])) {
    // listen(options[, callback]); a handle or a path (unix socket) is left as it is
    if (args[0].path === undefined && args[0].handle === undefined && args[0]._handle === undefined) {
      args[0] = { ...args[0], host: HOST };
    }
  } else if (isPort(args[0]) || args[0] === undefined) {
    // listen([port][, host][, backlog][, callback])
    const hostGiven = args.length > 1 && (typeof args[1] === 'string' || args[1] === undefined);
    args = [args[0] ?? 0, HOST, ...args.slice(hostGiven ? 2 : 1)];
  }
  return listen.apply(this, args);
};
