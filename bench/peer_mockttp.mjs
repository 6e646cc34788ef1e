// peer_mockttp: the npm peer of bench-peer - mockttp (a popular mock HTTP server) recording every
// request (recordTraffic, its default) and answering 204, plus a small control listener so the
// benchmark can count and clear what it recorded, as it does with our mock's /__journal.
import * as http from 'node:http';
import * as mockttp from 'mockttp';

const server = mockttp.getLocal({ recordTraffic: true });
await server.start();
let endpoint = await server.forAnyRequest().thenReply(204);

const control = http.createServer(async (req, res) => {
  if (req.method === 'GET' && req.url === '/__count') {
    const seen = await endpoint.getSeenRequests();
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ count: seen.length }));
  } else if (req.method === 'DELETE' && req.url === '/__journal') {
    await server.reset();
    endpoint = await server.forAnyRequest().thenReply(204);
    res.writeHead(204);
    res.end();
  } else {
    res.writeHead(404);
    res.end();
  }
});

control.listen(0, '127.0.0.1', () => {
  console.log(`peer-mockttp: listening on http://127.0.0.1:${server.port}`);
  console.log(`peer-mockttp: control on http://127.0.0.1:${control.address().port}`);
});

const stop = async () => {
  control.close();
  await server.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
