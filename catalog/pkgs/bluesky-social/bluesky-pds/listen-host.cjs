// Preloaded by the `pds` wrapper (package.nix): @atproto/pds calls `app.listen(port)` without a
// host, which binds every interface. With ATWB_LISTEN_HOST set, a server that is told to listen
// on a port but no host listens on that host instead; a call that names a host is left alone.
'use strict'
const net = require('net')
const host = process.env.ATWB_LISTEN_HOST
if (host) {
  const listen = net.Server.prototype.listen
  net.Server.prototype.listen = function (...args) {
    const first = args[0]
    if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
      if (args.length === 1 || typeof args[1] === 'function') args.splice(1, 0, host)
    } else if (first && typeof first === 'object' && first.path === undefined && first.host === undefined) {
      args[0] = { ...first, host }
    }
    return listen.apply(this, args)
  }
}
