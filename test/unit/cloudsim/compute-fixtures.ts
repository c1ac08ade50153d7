/**
 * Shared pieces of the Neutron and Nova simulator tests: sessions for the
 * demo member, admin and a second project, and tiny in-test stand-ins of
 * the image (Glance) and volumev3 (Cinder) contracts backed by temp files.
 */
import { randomUUID } from 'node:crypto';
import {
  copyFileSync,
  createReadStream,
  createWriteStream,
  mkdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import express from 'express';
import type { RunningCloud } from '../../../services/cloudsim/cloud.js';
import type {
  ImageServiceApi,
  SimImage,
  SimVolumeAttachment,
  VolumeServiceApi,
} from '../../../services/cloudsim/contracts.js';
import type { SimService, SiteContext } from '../../../services/cloudsim/site.js';
import { KeystoneSession } from '../../../services/common/openstack/session.js';

export function session(
  cloud: RunningCloud,
  region: string,
  who: { user: string; password: string; project: string } = {
    user: 'demo',
    password: 'DEMO_PASS',
    project: 'demo',
  },
): KeystoneSession {
  return new KeystoneSession({
    authUrl: `${cloud.keystone.url}/v3`,
    auth: { type: 'password', username: who.user, password: who.password, userDomainName: 'Default' },
    scope: { projectName: who.project, projectDomainName: 'Default' },
    regionName: region,
    interface: 'public',
    retryDelayMs: 5,
  });
}

export const ADMIN = { user: 'admin', password: 'ADMIN_PASS', project: 'admin' };

/** An admin-made second tenant ("other") with a member user, to check isolation. */
export function createOtherProject(cloud: RunningCloud) {
  const store = cloud.keystone.store;
  const project = store.findProject({ name: 'other' }) ?? store.createProject({ name: 'other' });
  const user =
    store.findUser({ name: 'other' }) ??
    store.createUser({ name: 'other', password: 'OTHER_PASS', defaultProjectId: project.id });
  store.grant(user.id, store.ensureRole('member').id, { projectId: project.id });
  return { user: 'other', password: 'OTHER_PASS', project: 'other', projectId: project.id };
}

/** Only the part of the image contract Nova uses, so contract additions elsewhere do not break the fake. */
export interface FakeImages
  extends SimService,
    Pick<ImageServiceApi, 'getImage' | 'imageDataPath' | 'createImageFromFile'> {
  images: Map<string, SimImage & { file?: string }>;
  /** Glance's queued-image pair (createImage answers before the upload when the image service has it). */
  createQueuedImage?(
    owner: string,
    fields: {
      name: string;
      disk_format?: string;
      container_format?: string;
      properties?: Record<string, string>;
    },
  ): SimImage;
  uploadImageFromFile?(id: string, filePath: string): Promise<SimImage>;
  /** Seeds an active image with these bytes. */
  addImage(
    owner: string,
    name: string,
    bytes: Buffer,
    visibility?: SimImage['visibility'],
  ): SimImage & { file?: string };
}

/** Per region, what the fake image service holds. */
export const fakeImages: Record<string, FakeImages> = {};

export function fakeImageService(site: SiteContext): FakeImages {
  const dir = join(site.dataDir, 'fake-glance');
  mkdirSync(dir, { recursive: true });
  const images = new Map<string, SimImage & { file?: string }>();
  const make = (
    owner: string,
    name: string,
    file: string,
    size: number,
    props: Record<string, string>,
    vis: SimImage['visibility'],
  ) => {
    const img: SimImage & { file?: string } = {
      id: randomUUID(),
      name,
      status: 'active',
      owner,
      visibility: vis,
      disk_format: 'raw',
      container_format: 'bare',
      size,
      checksum: null,
      os_hash_algo: null,
      os_hash_value: null,
      properties: props,
      file,
    };
    images.set(img.id, img);
    return img;
  };
  const svc: FakeImages = {
    type: 'image',
    name: 'fake-glance',
    router: express.Router(),
    catalogUrl: (b) => b,
    images,
    addImage(owner, name, bytes, visibility = 'public') {
      const file = join(dir, randomUUID());
      writeFileSync(file, bytes);
      return make(owner, name, file, bytes.length, {}, visibility);
    },
    getImage: (id) => images.get(id),
    imageDataPath: (id) => images.get(id)?.file,
    createQueuedImage(owner, fields) {
      const img = make(owner, fields.name, '', 0, { ...(fields.properties ?? {}) }, 'private');
      Object.assign(img, { status: 'queued', size: null, file: undefined });
      img.disk_format = fields.disk_format ?? null;
      img.container_format = fields.container_format ?? null;
      return img;
    },
    async uploadImageFromFile(id, filePath) {
      const img = images.get(id);
      if (!img) throw new Error(`no image ${id}`);
      img.status = 'saving';
      const file = join(dir, randomUUID());
      try {
        await pipeline(createReadStream(filePath), createWriteStream(file));
      } catch (e) {
        img.status = 'killed';
        throw e;
      }
      Object.assign(img, { status: 'active', file, size: statSync(file).size });
      return img;
    },
    async createImageFromFile(owner, fields, filePath) {
      const file = join(dir, randomUUID());
      copyFileSync(filePath, file);
      const img = make(
        owner,
        fields.name,
        file,
        readFileSync(file).length,
        { ...(fields.properties ?? {}) },
        'private',
      );
      img.disk_format = fields.disk_format ?? null;
      img.container_format = fields.container_format ?? null;
      return img;
    },
  };
  fakeImages[site.region] = svc;
  return svc;
}

interface FakeVolume {
  id: string;
  status: string;
  size: number;
  project_id: string;
  attachments: SimVolumeAttachment[];
}

export interface FakeVolumes
  extends SimService,
    Pick<VolumeServiceApi, 'getVolume' | 'attach' | 'detach' | 'volumeDataPath'> {
  volumes: Map<string, FakeVolume>;
  addVolume(projectId: string, sizeGb?: number): FakeVolume;
}

export const fakeVolumes: Record<string, FakeVolumes> = {};

export function fakeVolumeService(site: SiteContext): FakeVolumes {
  const volumes = new Map<string, FakeVolume>();
  const svc: FakeVolumes = {
    type: 'volumev3',
    name: 'fake-cinder',
    router: express.Router(),
    catalogUrl: (b) => b,
    volumes,
    addVolume(projectId, sizeGb = 1) {
      const v = {
        id: randomUUID(),
        status: 'available',
        size: sizeGb,
        project_id: projectId,
        attachments: [],
      };
      volumes.set(v.id, v);
      return v;
    },
    getVolume: (id) => volumes.get(id),
    attach(volumeId, serverId, device) {
      const v = volumes.get(volumeId);
      if (v?.status !== 'available') throw new Error(`volume ${volumeId} is not available`);
      const a = { id: randomUUID(), server_id: serverId, device, host_name: 'sim-compute' };
      v.attachments.push(a);
      v.status = 'in-use';
      return a;
    },
    detach(volumeId, serverId) {
      const v = volumes.get(volumeId);
      if (!v) throw new Error(`no volume ${volumeId}`);
      v.attachments = v.attachments.filter((a) => a.server_id !== serverId);
      if (v.attachments.length === 0) v.status = 'available';
    },
    volumeDataPath: (id) => join(site.dataDir, 'fake-cinder', id),
  };
  fakeVolumes[site.region] = svc;
  return svc;
}
