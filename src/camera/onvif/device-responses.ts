// Device service answers (ONVIF Device Management WSDL ver10, Profile S subset): pure builders
// of the Body content from the facts given, every value escaped. Nothing here claims a feature
// Vigil does not have: no discovery (CAM-5.3.2.2: WS-Discovery stays off), no multicast, no
// network or time configuration through ONVIF, users are read-only.
import { NS, xmlEscape as x } from './soap.ts';

export interface DeviceFacts {
  manufacturer: string;
  model: string;
  firmwareVersion: string;
  serialNumber: string;
  hardwareId: string;
}

export interface NetworkInterfaceFact {
  name: string;
  mac: string;
  address: string;
  prefixLength: number;
}

export type OnvifUserLevel = 'Administrator' | 'Operator' | 'User';

export interface Endpoints {
  device: string;
  media: string;
}

const VERSION = '<tt:Major>2</tt:Major><tt:Minor>0</tt:Minor>';

export function deviceInformation(d: DeviceFacts): string {
  return `<tds:GetDeviceInformationResponse><tds:Manufacturer>${x(d.manufacturer)}</tds:Manufacturer><tds:Model>${x(d.model)}</tds:Model><tds:FirmwareVersion>${x(d.firmwareVersion)}</tds:FirmwareVersion><tds:SerialNumber>${x(d.serialNumber)}</tds:SerialNumber><tds:HardwareId>${x(d.hardwareId)}</tds:HardwareId></tds:GetDeviceInformationResponse>`;
}

/** The OS clock in UTC; Vigil does not set the time, so the type is reported as Manual. */
export function systemDateAndTime(nowMs: number): string {
  const d = new Date(nowMs);
  return (
    '<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>Manual</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>' +
    '<tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone><tt:UTCDateTime>' +
    `<tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time>` +
    `<tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date>` +
    '</tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>'
  );
}

export function capabilities(e: Endpoints): string {
  const off = (names: readonly string[]): string => names.map((n) => `<tt:${n}>false</tt:${n}>`).join('');
  return (
    '<tds:GetCapabilitiesResponse><tds:Capabilities>' +
    `<tt:Device><tt:XAddr>${x(e.device)}</tt:XAddr>` +
    `<tt:Network>${off(['IPFilter', 'ZeroConfiguration', 'IPVersion6', 'DynDNS'])}</tt:Network>` +
    `<tt:System>${off(['DiscoveryResolve', 'DiscoveryBye', 'RemoteDiscovery', 'SystemBackup', 'SystemLogging', 'FirmwareUpgrade'])}<tt:SupportedVersions>${VERSION}</tt:SupportedVersions></tt:System>` +
    `<tt:Security>${off(['TLS1.1'])}<tt:TLS1.2>true</tt:TLS1.2>${off(['OnboardKeyGeneration', 'AccessPolicyConfig', 'X.509Token', 'SAMLToken', 'KerberosToken', 'RELToken'])}</tt:Security>` +
    '</tt:Device>' +
    `<tt:Media><tt:XAddr>${x(e.media)}</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>` +
    '</tds:Capabilities></tds:GetCapabilitiesResponse>'
  );
}

export function services(e: Endpoints): string {
  const service = (ns: string, xaddr: string): string => `<tds:Service><tds:Namespace>${ns}</tds:Namespace><tds:XAddr>${x(xaddr)}</tds:XAddr><tds:Version>${VERSION}</tds:Version></tds:Service>`;
  return `<tds:GetServicesResponse>${service(NS.tds, e.device)}${service(NS.trt, e.media)}</tds:GetServicesResponse>`;
}

/** What the OS reports for the addresses the service listens on; Vigil configures no interface. */
export function networkInterfaces(list: readonly NetworkInterfaceFact[]): string {
  const items = list.map(
    (n, i) =>
      `<tds:NetworkInterfaces token="eth${i}"><tt:Enabled>true</tt:Enabled><tt:Info><tt:Name>${x(n.name)}</tt:Name><tt:HwAddress>${x(n.mac)}</tt:HwAddress></tt:Info>` +
      `<tt:IPv4><tt:Enabled>true</tt:Enabled><tt:Config><tt:Manual><tt:Address>${x(n.address)}</tt:Address><tt:PrefixLength>${n.prefixLength}</tt:PrefixLength></tt:Manual><tt:DHCP>false</tt:DHCP></tt:Config></tt:IPv4></tds:NetworkInterfaces>`,
  );
  return `<tds:GetNetworkInterfacesResponse>${items.join('')}</tds:GetNetworkInterfacesResponse>`;
}

/** GetUsers: names and levels only; a password is never returned. */
export function users(list: ReadonlyArray<{ username: string; level: OnvifUserLevel }>): string {
  return `<tds:GetUsersResponse>${list.map((u) => `<tds:User><tt:Username>${x(u.username)}</tt:Username><tt:UserLevel>${u.level}</tt:UserLevel></tds:User>`).join('')}</tds:GetUsersResponse>`;
}
