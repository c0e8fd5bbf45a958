// Preloaded into the fauxqs process: fauxqs always listens on 0.0.0.0; the test
// suite keeps its peers on loopback, so every listen() is bound to 127.0.0.1.
import net from "node:net";
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (args[0] && typeof args[0] === "object" && "host" in args[0]) {
    args[0] = { ...args[0], host: "127.0.0.1" };
  }
  return listen.apply(this, args);
};
