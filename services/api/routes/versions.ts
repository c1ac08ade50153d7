/** Version discovery (no auth): what keystoneauth and the CLI read to pick an endpoint and microversion. */
import type { Request, RequestHandler } from 'express';
import { formatVersion, MAX_VERSION, MIN_VERSION } from '../microversion.js';
import { baseUrl } from '../urls.js';

export function versionDoc(req: Request) {
  return {
    id: 'v1.0',
    status: 'CURRENT',
    min_version: formatVersion(MIN_VERSION),
    max_version: formatVersion(MAX_VERSION),
    links: [{ rel: 'self', href: `${baseUrl(req)}/v1/` }],
  };
}

/** `GET /`: 300 Multiple Choices, as Keystone and Cinder answer their root. */
export const listVersions: RequestHandler = (req, res) => {
  res.status(300).json({ versions: [versionDoc(req)] });
};

export const showVersion: RequestHandler = (req, res) => {
  res.json({ version: versionDoc(req) });
};
