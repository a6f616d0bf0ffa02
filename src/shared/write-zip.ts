import yazl from 'yazl';

/**
 * A zip of the given entries (a name ending in "/" is a directory), built with yazl: the arscan
 * reference backend's answer, and the tests' and the bench's uploads.
 */
export function writeZip(entries: Array<[name: string, data: Buffer, compress?: boolean]>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, data, compress = true] of entries) {
    if (name.endsWith('/')) zip.addEmptyDirectory(name);
    else zip.addBuffer(data, name, { compress });
  }
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}
