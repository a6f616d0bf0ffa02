import openapiTS from 'openapi-typescript';

/** The TypeScript types of the OpenAPI document, which examples/client.ts is typed from. */
export async function renderClientTypes(document: string): Promise<string> {
  return openapiTS(JSON.parse(document));
}
