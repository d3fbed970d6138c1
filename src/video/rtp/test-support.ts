// Test helpers for the RTP layer (imported by tests only).
import { emptyRtpPacket, parseRtpPacket, serializeRtpPacket, type RtpPacket } from './rtp-packet.ts';
import { forEachNalUnit, type AccessUnit } from './access-unit.ts';

export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

/** A parsed RTP packet (PT 96, SSRC 1) around `payload`. */
export function rtp(sequenceNumber: number, timestamp: number, marker: boolean, payload: Uint8Array): RtpPacket {
  const bytes = serializeRtpPacket({ marker, payloadType: 96, sequenceNumber, timestamp, ssrc: 1 }, payload);
  return parseRtpPacket(bytes, emptyRtpPacket());
}

/** A copy of an emitted access unit (the emitted one is a view that the next push reuses). */
export interface CopiedAccessUnit {
  timestamp: number;
  keyframe: boolean;
  nals: string[];
}

export function copyAccessUnit(au: AccessUnit): CopiedAccessUnit {
  const nals: string[] = [];
  forEachNalUnit(au.data, (start, end) => nals.push(au.data.subarray(start, end).toString('hex')));
  return { timestamp: au.timestamp, keyframe: au.keyframe, nals };
}

