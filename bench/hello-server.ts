/**
 * The baseline, run by bench/run.ts as its own process: a bare Fastify 5 server (logger off)
 * answering `GET /hello` with `{"hello":"world"}`. Every Herald figure is divided by its req/s.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/hello', async () => ({ hello: 'world' }));
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`hello listening on ${address}\n`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}
