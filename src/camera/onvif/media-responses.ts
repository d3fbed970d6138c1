// Media service answers (ONVIF Media WSDL ver10, Profile S subset): one profile carrying the
// camera's one H.264 encoder as configured (config.camera), streamed over RTSPS only. Pure
// builders; every value escaped.
import { xmlEscape as x } from './soap.ts';

export interface EncoderFacts {
  width: number;
  height: number;
  fps: number;
  bitrateKbps: number;
  gop: number;
}

export const PROFILE_TOKEN = 'vigil_main';
export const VIDEO_SOURCE_TOKEN = 'vigil_source';
export const SOURCE_CONFIG_TOKEN = 'vigil_source_config';
export const ENCODER_CONFIG_TOKEN = 'vigil_h264';

function sourceConfiguration(e: EncoderFacts, element: string): string {
  return `<${element} token="${SOURCE_CONFIG_TOKEN}"><tt:Name>${SOURCE_CONFIG_TOKEN}</tt:Name><tt:UseCount>1</tt:UseCount><tt:SourceToken>${VIDEO_SOURCE_TOKEN}</tt:SourceToken><tt:Bounds x="0" y="0" width="${e.width}" height="${e.height}"/></${element}>`;
}

/** libx264 with -preset veryfast and no B-frames (ffmpeg-source.ts) encodes High profile. */
function encoderConfiguration(e: EncoderFacts, element: string): string {
  return (
    `<${element} token="${ENCODER_CONFIG_TOKEN}"><tt:Name>${ENCODER_CONFIG_TOKEN}</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>` +
    `<tt:Resolution><tt:Width>${e.width}</tt:Width><tt:Height>${e.height}</tt:Height></tt:Resolution><tt:Quality>5</tt:Quality>` +
    `<tt:RateControl><tt:FrameRateLimit>${e.fps}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>${e.bitrateKbps}</tt:BitrateLimit></tt:RateControl>` +
    `<tt:H264><tt:GovLength>${e.gop}</tt:GovLength><tt:H264Profile>High</tt:H264Profile></tt:H264>` +
    // Required by the schema; multicast is not offered (GetCapabilities RTPMulticast=false).
    '<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address><tt:Port>0</tt:Port><tt:TTL>0</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>' +
    `<tt:SessionTimeout>PT60S</tt:SessionTimeout></${element}>`
  );
}

export function profiles(e: EncoderFacts): string {
  return `<trt:GetProfilesResponse>${profileElement(e, 'trt:Profiles')}</trt:GetProfilesResponse>`;
}

export function profile(e: EncoderFacts): string {
  return `<trt:GetProfileResponse>${profileElement(e, 'trt:Profile')}</trt:GetProfileResponse>`;
}

function profileElement(e: EncoderFacts, element: string): string {
  return `<${element} token="${PROFILE_TOKEN}" fixed="true"><tt:Name>${PROFILE_TOKEN}</tt:Name>${sourceConfiguration(e, 'tt:VideoSourceConfiguration')}${encoderConfiguration(e, 'tt:VideoEncoderConfiguration')}</${element}>`;
}

export function videoSources(e: EncoderFacts): string {
  return `<trt:GetVideoSourcesResponse><trt:VideoSources token="${VIDEO_SOURCE_TOKEN}"><tt:Framerate>${e.fps}</tt:Framerate><tt:Resolution><tt:Width>${e.width}</tt:Width><tt:Height>${e.height}</tt:Height></tt:Resolution></trt:VideoSources></trt:GetVideoSourcesResponse>`;
}

export function videoEncoderConfigurations(e: EncoderFacts): string {
  return `<trt:GetVideoEncoderConfigurationsResponse>${encoderConfiguration(e, 'trt:Configurations')}</trt:GetVideoEncoderConfigurationsResponse>`;
}

export function videoEncoderConfiguration(e: EncoderFacts): string {
  return `<trt:GetVideoEncoderConfigurationResponse>${encoderConfiguration(e, 'trt:Configuration')}</trt:GetVideoEncoderConfigurationResponse>`;
}

function mediaUri(response: string, uri: string, fixedPort: boolean): string {
  return `<trt:${response}><trt:MediaUri><tt:Uri>${x(uri)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>${!fixedPort}</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:${response}>`;
}

/** The URI stays valid across connections; across restarts only when the RTSPS port is fixed (not 0). */
export function streamUri(uri: string, fixedPort: boolean): string {
  return mediaUri('GetStreamUriResponse', uri, fixedPort);
}

/** The HTTPS snapshot URI (Digest-authenticated JPEG); stable across restarts when the API port is fixed. */
export function snapshotUri(uri: string, fixedPort: boolean): string {
  return mediaUri('GetSnapshotUriResponse', uri, fixedPort);
}
