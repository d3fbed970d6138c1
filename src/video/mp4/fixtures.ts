// Known parameter sets used by several tests: x264 and x265 output for 1920x1080 testsrc2
// (ffmpeg -f lavfi -i testsrc2=size=1920x1080:rate=30 -c:v libx264|libx265 -pix_fmt yuv420p).
export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

/** libx264, High profile (100), level 4.0, 1920x1088 coded with 8 lines cropped. */
export const H264_SPS_1080P = hex('67640028acb200f0044fcb8088000003000800000301e078c19240');
export const H264_PPS = hex('68ebc3cb22c0');

/** libx265, Main profile, level 4 (120), 1920x1080 via a conformance window. */
export const H265_VPS = hex('40010c01ffff016000000300900000030000030078928090');
export const H265_SPS_1080P = hex('420101016000000300900000030000030078a003c08010e5964a924caf016808000003000800000300f040');
export const H265_PPS = hex('4401c172b46240');
