import { openQdrantIndex } from './qdrant-index.js';
import { buildSegmentsIndex } from './segments-build.js';
import { openSegmentsIndex } from './segments-index.js';
import { writeSegment } from './segment-format.js';
import { tempStore } from './test-support.js';
import { describeVectorContract } from './vector-contract.js';

describeVectorContract('segments', async (points, dim) => {
  const env = await tempStore();
  // Two segments, like two embed shards.
  await writeSegment(env.store, 'a', points.slice(0, 150), dim);
  await writeSegment(env.store, 'b', points.slice(150), dim);
  await buildSegmentsIndex(env.store, { connectivity: 16, expansionAdd: 128, expansionSearch: 512 });
  const searcher = await openSegmentsIndex(env.store);
  return {
    searcher,
    close: async () => {
      await searcher.close();
      await env.cleanup();
    },
  };
});

// A real Qdrant server, only when one is configured (none can run on CI machines: DESIGN §10).
const url = process.env.QDRANT_URL;
const apiKey = process.env.QDRANT_API_KEY || undefined;
describeVectorContract(
  'qdrant (QDRANT_URL)',
  async (points, dim) => {
    const collection = `nextlong_contract_${process.pid}_${Date.now()}`;
    const writer = await openQdrantIndex({ url: url!, apiKey, collection, dim, create: true, batchSize: 64 });
    const drop = async () => {
      const res = await fetch(`${url!.replace(/\/+$/, '')}/collections/${collection}`, {
        method: 'DELETE',
        headers: apiKey ? { 'api-key': apiKey } : {},
      });
      await res.arrayBuffer();
    };
    try {
      await writer.upsert(points);
      await writer.close();
      const searcher = await openQdrantIndex({ url: url!, apiKey, collection, dim });
      return {
        searcher,
        close: async () => {
          await searcher.close();
          await drop();
        },
      };
    } catch (err) {
      await drop();
      throw err;
    }
  },
  { skip: url ? undefined : 'QDRANT_URL is not set; no Qdrant server can run here' },
);
