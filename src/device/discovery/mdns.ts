// mDNS / DNS-SD responder logic (RFC 6762, RFC 6763): pure answer(query bytes) → response bytes,
// no I/O. Packet encoding is dns-packet's (decode refuses truncated input; the datagram is
// size-bounded before it gets there). What we answer: service enumeration
// (_services._dns-sd._udp, RFC 6763 §9), PTR for our service types, SRV/TXT for our instances
// and A/AAAA for our host name, with the RFC 6763 §12 additional records. We never answer
// negatively, never probe or announce, and always reply by unicast to the querier (legacy
// unicast form when its source port is not 5353, RFC 6762 §6.7): the device sends no multicast.
import dnsPacket from 'dns-packet';
import type { Answer, Question } from 'dns-packet';
import { MalformedDatagram } from './udp-responder.ts';

/** RFC 6762 §17: a Multicast DNS packet is at most 9000 bytes. */
export const MDNS_MAX_BYTES = 9000;
export const MDNS_MULTICAST_GROUP = '224.0.0.251';
export const MDNS_PORT = 5353;
const MAX_QUESTIONS = 16;
/** RFC 6762 §10: host records 120 s, others 75 min; legacy unicast answers at most 10 s (§6.7). */
const HOST_TTL = 120;
const OTHER_TTL = 4500;
const LEGACY_TTL = 10;
const ENUMERATION = '_services._dns-sd._udp.local';

export interface MdnsService {
  /** e.g. _https._tcp */
  type: string;
  port: number;
  /** key=value strings (RFC 6763 §6). */
  txt: string[];
}

export interface MdnsDevice {
  /** Instance name (a single DNS label of at most 63 bytes, RFC 6763 §4.1.1). */
  instance: string;
  /** Host name, e.g. vigil.local */
  host: string;
  ipv4: string[];
  ipv6: string[];
  services: MdnsService[];
}

const eq = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
/** dns-packet names are dotted text: a dot inside the instance label must be escaped. */
const instanceName = (d: MdnsDevice, s: MdnsService): string => `${d.instance.replace(/\\/g, '\\\\').replace(/\./g, '\\.')}.${s.type}.local`;

function isQueryClass(c: string | undefined): boolean {
  // dns-packet reports IN / ANY with the QU bit (RFC 6762 §5.4) as UNKNOWN_32769 / UNKNOWN_33023.
  return c === undefined || c === 'IN' || c === 'ANY' || c === 'UNKNOWN_32769' || c === 'UNKNOWN_33023';
}

function records(d: MdnsDevice, q: Question, ttl: (host: boolean) => number): { answers: Answer[]; additionals: Answer[] } {
  const answers: Answer[] = [];
  const additionals: Answer[] = [];
  // dns-packet types QTYPE 255 (RFC 1035 §3.2.3 "*") as the string ANY, outside its RecordType.
  const wants = (type: string): boolean => q.type === type || (q.type as string) === 'ANY';
  const hostRecords = (): Answer[] => [
    ...d.ipv4.map((a): Answer => ({ type: 'A', name: d.host, ttl: ttl(true), flush: true, data: a })),
    ...d.ipv6.map((a): Answer => ({ type: 'AAAA', name: d.host, ttl: ttl(true), flush: true, data: a })),
  ];
  const srvTxt = (s: MdnsService): Answer[] => [
    { type: 'SRV', name: instanceName(d, s), ttl: ttl(true), flush: true, data: { priority: 0, weight: 0, port: s.port, target: d.host } },
    { type: 'TXT', name: instanceName(d, s), ttl: ttl(false), flush: true, data: s.txt.length === 0 ? [''] : s.txt },
  ];
  if (eq(q.name, ENUMERATION) && wants('PTR')) {
    for (const s of d.services) answers.push({ type: 'PTR', name: ENUMERATION, ttl: ttl(false), data: `${s.type}.local` });
  }
  for (const s of d.services) {
    if (eq(q.name, `${s.type}.local`) && wants('PTR')) {
      answers.push({ type: 'PTR', name: `${s.type}.local`, ttl: ttl(false), data: instanceName(d, s) });
      additionals.push(...srvTxt(s), ...hostRecords());
    }
    if (eq(q.name, instanceName(d, s))) {
      const both = srvTxt(s).filter((r) => wants(r.type));
      answers.push(...both);
      if (both.some((r) => r.type === 'SRV')) additionals.push(...hostRecords());
    }
  }
  if (eq(q.name, d.host)) answers.push(...hostRecords().filter((r) => wants(r.type)));
  return { answers, additionals };
}

/**
 * The response to one query datagram, or undefined when we have nothing to say (not a query,
 * or not about us). Throws MalformedDatagram for what does not decode.
 */
export function answerQuery(datagram: Buffer, device: MdnsDevice, sourcePort: number): Buffer | undefined {
  if (datagram.length > MDNS_MAX_BYTES) throw new MalformedDatagram('datagram too large');
  if (datagram.length < 12) throw new MalformedDatagram('shorter than a DNS header');
  // RFC 6762 §18: QR=0, OPCODE=0 for queries; check before decoding anything else.
  const flags = datagram.readUInt16BE(2);
  if ((flags & 0x8000) !== 0) return undefined;
  if ((flags & 0x7800) !== 0) return undefined;
  if (datagram.readUInt16BE(4) > MAX_QUESTIONS) throw new MalformedDatagram('too many questions');
  let query: ReturnType<typeof dnsPacket.decode>;
  try {
    query = dnsPacket.decode(datagram);
  } catch {
    throw new MalformedDatagram('does not decode as DNS');
  }
  const legacy = sourcePort !== MDNS_PORT;
  const ttl = (host: boolean): number => (legacy ? LEGACY_TTL : host ? HOST_TTL : OTHER_TTL);
  const questions = (query.questions ?? []).filter((q) => isQueryClass(q.class));
  const answers: Answer[] = [];
  const additionals: Answer[] = [];
  for (const q of questions) {
    const r = records(device, q, ttl);
    answers.push(...r.answers);
    additionals.push(...r.additionals);
  }
  if (answers.length === 0) return undefined;
  const key = (a: Answer): string => `${a.type}|${a.name.toLowerCase()}|${JSON.stringify('data' in a ? a.data : null)}`;
  const inAnswers = new Set(answers.map(key));
  const extra = additionals.filter((a, i) => !inAnswers.has(key(a)) && additionals.findIndex((b) => key(b) === key(a)) === i);
  // Legacy unicast (§6.7): echo the id and questions, and no cache-flush bits.
  const unflush = (a: Answer): Answer => (legacy ? { ...a, flush: false } as Answer : a);
  return dnsPacket.encode({
    type: 'response',
    id: legacy ? (query.id ?? 0) : 0,
    flags: dnsPacket.AUTHORITATIVE_ANSWER,
    questions: legacy ? questions.map((q) => ({ type: q.type, name: q.name, class: 'IN' })) : [],
    answers: answers.map(unflush),
    additionals: extra.map(unflush),
  });
}
