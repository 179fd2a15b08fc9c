// Writes FILE.br and FILE.gz beside each file named: the server sends them
// to browsers that accept them (`/pkg/` is a ServeDir that picks one by
// Accept-Encoding, else the file itself: server/src/http.rs). Brotli at
// quality 11 and gzip at level 9: slow once at build time, nothing per
// request.
//   node scripts/precompress.mjs FILE...
import { readFileSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

for (const file of process.argv.slice(2)) {
  const data = readFileSync(file);
  const params = { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length };
  writeFileSync(`${file}.br`, brotliCompressSync(data, { params }));
  writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }));
}
