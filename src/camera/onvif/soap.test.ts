// SOAP parsing hardening: DOCTYPE/entities (XXE, billion laughs), oversize, depth, stray
// processing instructions, and the shape of faults (SOAP 1.2 §5.4.6, ONVIF Core §5.11).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SOAP_MAX_BYTES, SoapFault, WSSE_PASSWORD_DIGEST, WSSE_PASSWORD_TEXT, parseSoapRequest, soapFaultXml, xmlEscape } from './soap.ts';

const ENV = 'http://www.w3.org/2003/05/soap-envelope';
const wrap = (body: string, header = ''): string => `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="${ENV}"><s:Header>${header}</s:Header><s:Body>${body}</s:Body></s:Envelope>`;
const TOKEN =
  '<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><wsse:UsernameToken>' +
  `<wsse:Username>alice &amp; co</wsse:Username><wsse:Password Type="${WSSE_PASSWORD_DIGEST}">tuOSpGlFlIXsozq4HFNeeGeFLEI=</wsse:Password>` +
  '<wsse:Nonce>LKqI6G/AikKCQrN0zqZFlg==</wsse:Nonce><wsu:Created>2010-09-16T07:50:45Z</wsu:Created></wsse:UsernameToken></wsse:Security>';

function sender(fn: () => unknown, subcode = 'ter:WellFormed'): void {
  assert.throws(fn, (err: unknown) => err instanceof SoapFault && err.code === 'Sender' && err.subcode === subcode && err.httpStatus === 400);
}

describe('parseSoapRequest', () => {
  test('reads the operation, its arguments and the UsernameToken by local name', () => {
    const r = parseSoapRequest(wrap('<trt:GetStreamUri xmlns:trt="http://www.onvif.org/ver10/media/wsdl"><trt:ProfileToken>vigil_main</trt:ProfileToken></trt:GetStreamUri>', TOKEN));
    assert.equal(r.operation, 'GetStreamUri');
    assert.deepEqual(r.body, { ProfileToken: 'vigil_main' });
    assert.deepEqual(r.token, { username: 'alice & co', password: 'tuOSpGlFlIXsozq4HFNeeGeFLEI=', passwordType: WSSE_PASSWORD_DIGEST, nonce: 'LKqI6G/AikKCQrN0zqZFlg==', created: '2010-09-16T07:50:45Z' });
  });

  test('no Security header: no token; a Password without Type is PasswordText (WSS §3.1)', () => {
    assert.equal(parseSoapRequest(wrap('<GetSystemDateAndTime/>')).token, undefined);
    const r = parseSoapRequest(wrap('<GetUsers/>', '<Security><UsernameToken><Username>bob</Username><Password>pw</Password></UsernameToken></Security>'));
    assert.equal(r.token?.passwordType, WSSE_PASSWORD_TEXT);
  });

  test('a Security header without a usable UsernameToken is NotAuthorized', () => {
    sender(() => parseSoapRequest(wrap('<GetUsers/>', '<Security><Timestamp/></Security>')), 'ter:NotAuthorized');
    sender(() => parseSoapRequest(wrap('<GetUsers/>', '<Security><UsernameToken><Username></Username><Password>x</Password></UsernameToken></Security>')), 'ter:NotAuthorized');
    sender(() => parseSoapRequest(wrap('<GetUsers/>', '<Security><UsernameToken><Username>a</Username><Username>b</Username><Password>x</Password></UsernameToken></Security>')));
  });

  test('DOCTYPE, entity declarations (XXE, billion laughs) and other declarations are refused before parsing', () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><s:Envelope xmlns:s="${ENV}"><s:Body><GetUsers>&x;</GetUsers></s:Body></s:Envelope>`;
    const laughs = `<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>${wrap('<GetUsers>&b;</GetUsers>')}`;
    for (const text of [xxe, laughs, wrap('<!ENTITY x "y"><GetUsers/>'), ` <!doctype s>${wrap('<GetUsers/>')}`, wrap('<!ATTLIST a b CDATA "c"><GetUsers/>')]) {
      assert.throws(() => parseSoapRequest(text), (err: unknown) => err instanceof SoapFault && /DOCTYPE and entity/.test(err.message));
    }
  });

  test('comments and CDATA are fine; an undeclared entity stays literal text, never expanded', () => {
    const r = parseSoapRequest(wrap('<!-- hi --><GetProfile><ProfileToken><![CDATA[vigil_main]]></ProfileToken></GetProfile>'));
    assert.equal(r.operation, 'GetProfile');
    assert.deepEqual(parseSoapRequest(wrap('<GetProfile><ProfileToken>&x;</ProfileToken></GetProfile>')).body, { ProfileToken: '&x;' });
  });

  test('processing instructions other than the XML declaration are refused', () => {
    sender(() => parseSoapRequest(wrap('<?php echo 1; ?><GetUsers/>')));
    sender(() => parseSoapRequest(`<?xml-stylesheet href="x"?>${wrap('<GetUsers/>')}`));
  });

  test('oversize, too deep, malformed, or not exactly one operation: sender faults', () => {
    sender(() => parseSoapRequest(wrap(`<GetUsers>${'x'.repeat(SOAP_MAX_BYTES)}</GetUsers>`)));
    sender(() => parseSoapRequest(wrap(`${'<a>'.repeat(40)}${'</a>'.repeat(40)}`)));
    sender(() => parseSoapRequest(wrap('<GetUsers>')));
    sender(() => parseSoapRequest('not xml at all'));
    sender(() => parseSoapRequest(`<s:Envelope xmlns:s="${ENV}"><s:Header/></s:Envelope>`));
    sender(() => parseSoapRequest(wrap('')));
    sender(() => parseSoapRequest(wrap('<GetUsers/><GetProfiles/>')));
    sender(() => parseSoapRequest(wrap('<GetUsers/><GetUsers/>')));
  });

  test('a bounded seeded stream of mutations never escapes as anything but a SoapFault', () => {
    const base = wrap('<GetStreamUri><StreamSetup><Stream>RTP-Unicast</Stream></StreamSetup><ProfileToken>vigil_main</ProfileToken></GetStreamUri>', TOKEN);
    let seed = 0x5eed;
    const next = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let i = 0; i < 2000; i++) {
      const chars = [...base];
      for (let k = 0; k < 1 + (next() % 4); k++) chars[next() % chars.length] = '<>&"/![]?= a'[next() % 12] ?? 'x';
      try {
        parseSoapRequest(chars.join(''));
      } catch (err) {
        assert.ok(err instanceof SoapFault, `case ${i}: ${String(err)}`);
      }
    }
  });
});

describe('faults and escaping', () => {
  test('a SOAP 1.2 fault with ONVIF subcodes; sender 400, receiver 500; text escaped', () => {
    const f = new SoapFault('Sender', 'ter:InvalidArgVal', 'No <such> "profile"', 'ter:NoProfile');
    const xml = soapFaultXml(f);
    assert.match(xml, /<env:Code><env:Value>env:Sender<\/env:Value><env:Subcode><env:Value>ter:InvalidArgVal<\/env:Value><env:Subcode><env:Value>ter:NoProfile<\/env:Value><\/env:Subcode><\/env:Subcode><\/env:Code>/);
    assert.match(xml, /No &#60;such&#62; &#34;profile&#34;/);
    assert.equal(f.httpStatus, 400);
    assert.equal(new SoapFault('Receiver', 'ter:ActionNotSupported', 'x').httpStatus, 500);
    assert.equal(xmlEscape(`a&b<c>"d'`), 'a&#38;b&#60;c&#62;&#34;d&#39;');
  });
});
