// The ONVIF service with its real accounts and identity on each database engine ("medium"):
// sealed verifiers made on password set (and dropped with the role off), replayed, stale and
// future tokens refused and audited, failures counted towards the shared lockout, PasswordText
// only over TLS, the same fault for unknown users and wrong passwords (CAM-T-auth-1/4).
import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describeOnEachStore } from '../../../test/helpers/stores.ts';
import { ADMIN_PASSWORD, clearIdentityTables, identityFixture, type IdentityFixture } from '../../identity/testing/doubles.ts';
import { firstAdmin } from '../../identity/testing/flows.ts';
import { OnvifAccounts } from './onvif-accounts.ts';
import { OnvifService } from './onvif-service.ts';
import { CREATED_WINDOW_MS } from './username-token.ts';

const DEVICE = 'http://www.onvif.org/ver10/device/wsdl';
const MEDIA = 'http://www.onvif.org/ver10/media/wsdl';
const TLS = { sourceIp: '192.0.2.7', secure: true };

function token(username: string, password: string, createdMs: number, nonce = randomBytes(16)): string {
  const created = new Date(createdMs).toISOString();
  const digest = createHash('sha1').update(nonce).update(created).update(password).digest('base64');
  return `<Security><UsernameToken><Username>${username}</Username><Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">${digest}</Password><Nonce>${nonce.toString('base64')}</Nonce><Created>${created}</Created></UsernameToken></Security>`;
}

function textToken(username: string, password: string): string {
  return `<Security><UsernameToken><Username>${username}</Username><Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">${password}</Password></UsernameToken></Security>`;
}

const request = (op: string, ns: string, security = '', args = ''): string =>
  `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header>${security}</s:Header><s:Body><${op} xmlns="${ns}">${args}</${op}></s:Body></s:Envelope>`;

describeOnEachStore('ONVIF service with Vigil accounts', (get) => {
  let f: IdentityFixture;
  let accounts: OnvifAccounts;
  let onvif: OnvifService;

  beforeEach(async () => {
    await clearIdentityTables(get().store);
    f = identityFixture(get().store);
    accounts = new OnvifAccounts({ db: get().store.db, keyring: f.sealer, identity: f.identity, clock: f.clock });
    await accounts.install(true);
    onvif = new OnvifService({
      accounts,
      identity: f.identity,
      audit: f.audit,
      clock: f.clock,
      device: { manufacturer: 'Vigil', model: 'Vigil software camera', firmwareVersion: '0.1.0', serialNumber: 'ab12', hardwareId: 'cam' },
      encoder: { width: 640, height: 360, fps: 25, bitrateKbps: 1500, gop: 50 },
      listenHost: '127.0.0.1',
      origin: () => 'https://127.0.0.1:8443',
      originFixed: true,
      stream: () => ({ uri: 'rtsps://127.0.0.1:322/live', fixedPort: true }),
    });
    await firstAdmin(f);
  });

  const reasons = (): unknown[] => f.audit.actions('onvif.request').map((e) => e.details?.['reason'] ?? e.outcome);

  test('the verifier is sealed at password set, never stored in clear, and deleted when the role is off', async () => {
    const rows = await get().store.db.selectFrom('onvif_credentials').selectAll().execute();
    assert.equal(rows.length, 1);
    assert.equal(Buffer.from(rows[0]?.sealed_password ?? []).indexOf(Buffer.from(ADMIN_PASSWORD)), -1);
    await new OnvifAccounts({ db: get().store.db, keyring: f.sealer, identity: f.identity, clock: f.clock }).install(false);
    assert.equal((await get().store.db.selectFrom('onvif_credentials').selectAll().execute()).length, 0);
  });

  test('CAM-T-auth-1: a token is accepted once; replay, stale and future Created are NotAuthorized and audited', async () => {
    const now = f.clock.now();
    const ok = request('GetStreamUri', MEDIA, token('admin', ADMIN_PASSWORD, now), '<ProfileToken>vigil_main</ProfileToken>');
    const first = await onvif.handle('media', ok, TLS);
    assert.equal(first.status, 200, first.xml);
    assert.match(first.xml, /<tt:Uri>rtsps:\/\/127\.0\.0\.1:322\/live<\/tt:Uri>/);
    const replay = await onvif.handle('media', ok, TLS);
    assert.equal(replay.status, 400);
    assert.match(replay.xml, /ter:NotAuthorized/);
    // One second less than the window is still fresh; one more is not.
    assert.equal((await onvif.handle('device', request('GetDeviceInformation', DEVICE, token('admin', ADMIN_PASSWORD, now - CREATED_WINDOW_MS + 1000)), TLS)).status, 200);
    assert.equal((await onvif.handle('device', request('GetDeviceInformation', DEVICE, token('admin', ADMIN_PASSWORD, now - CREATED_WINDOW_MS - 1000)), TLS)).status, 400);
    assert.equal((await onvif.handle('device', request('GetDeviceInformation', DEVICE, token('admin', ADMIN_PASSWORD, now + CREATED_WINDOW_MS + 1000)), TLS)).status, 400);
    assert.deepEqual(reasons(), ['success', 'replay', 'success', 'expired', 'future']);
    const logins = f.audit.actions('auth.login').filter((e) => e.details?.['via'] === 'onvif');
    assert.deepEqual(logins.map((e) => e.outcome), ['success', 'failure', 'success', 'failure', 'failure']);
    assert.equal(f.audit.actions('onvif.request')[0]?.source, '192.0.2.7');
  });

  test('unknown users and wrong passwords get the same fault; five failures lock the account for every channel', async () => {
    const now = f.clock.now();
    const unknown = await onvif.handle('device', request('GetDeviceInformation', DEVICE, token('mallory', ADMIN_PASSWORD, now)), TLS);
    const wrong = await onvif.handle('device', request('GetDeviceInformation', DEVICE, token('admin', 'Wrong-Password-1', now)), TLS);
    assert.deepEqual(unknown, wrong);
    assert.doesNotMatch(wrong.xml, /admin|mallory/);
    for (let i = 0; i < 4; i++) await onvif.handle('device', request('GetDeviceInformation', DEVICE, token('admin', `Wrong-${i}`, now)), TLS);
    assert.equal(f.audit.actions('auth.lockout').length, 1);
    const right = await onvif.handle('device', request('GetDeviceInformation', DEVICE, token('admin', ADMIN_PASSWORD, now)), TLS);
    assert.equal(right.status, 400, 'locked');
    assert.equal(reasons().at(-1), 'locked');
    await assert.rejects(f.identity.login({ username: 'admin', password: ADMIN_PASSWORD }, { sourceIp: '192.0.2.1', userAgent: 't' }));
  });

  test('PasswordText is checked only over TLS (CAM-T-com-1)', async () => {
    const body = request('GetDeviceInformation', DEVICE, textToken('admin', ADMIN_PASSWORD));
    assert.equal((await onvif.handle('device', body, { sourceIp: '192.0.2.7', secure: false })).status, 400);
    assert.equal(reasons().at(-1), 'cleartext');
    assert.equal((await onvif.handle('device', body, TLS)).status, 200);
  });

  test('profile and encoder facts from the configuration; wrong tokens and unsupported transports are InvalidArgVal', async () => {
    const t = (): string => token('admin', ADMIN_PASSWORD, f.clock.now());
    const profiles = await onvif.handle('media', request('GetProfiles', MEDIA, t()), TLS);
    assert.match(profiles.xml, /<tt:Resolution><tt:Width>640<\/tt:Width><tt:Height>360<\/tt:Height><\/tt:Resolution>.*<tt:FrameRateLimit>25<\/tt:FrameRateLimit>.*<tt:BitrateLimit>1500<\/tt:BitrateLimit>.*<tt:GovLength>50<\/tt:GovLength>/);
    const noProfile = await onvif.handle('media', request('GetStreamUri', MEDIA, t(), '<ProfileToken>other</ProfileToken>'), TLS);
    assert.equal(noProfile.status, 400);
    assert.match(noProfile.xml, /ter:InvalidArgVal.*ter:NoProfile/);
    const udp = await onvif.handle('media', request('GetStreamUri', MEDIA, t(), '<StreamSetup><Stream>RTP-Unicast</Stream><Transport><Protocol>UDP</Protocol></Transport></StreamSetup><ProfileToken>vigil_main</ProfileToken>'), TLS);
    assert.match(udp.xml, /ter:InvalidStreamSetup/);
    const snapshot = await onvif.handle('media', request('GetSnapshotUri', MEDIA, t(), '<ProfileToken>vigil_main</ProfileToken>'), TLS);
    assert.match(snapshot.xml, /<tt:Uri>https:\/\/127\.0\.0\.1:8443\/onvif\/snapshot<\/tt:Uri>.*<tt:InvalidAfterReboot>false</);
    const unknown = await onvif.handle('media', request('GetOSDs', MEDIA, t(), '<ConfigurationToken>vigil_source_config</ConfigurationToken>'), TLS);
    assert.equal(unknown.status, 500);
    assert.match(unknown.xml, /ter:ActionNotSupported/);
  });
});
