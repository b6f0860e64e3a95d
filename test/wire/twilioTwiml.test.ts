import { describe, expect, it } from 'vitest';
import { connectStreamTwiml, streamUrlFor, TwimlError } from '../../src/wire/twilioTwiml.ts';

describe('connectStreamTwiml', () => {
  it('connects the call to a bidirectional stream with parameters', () => {
    const xml = connectStreamTwiml({
      streamUrl: 'wss://voice.example.com/twilio/media',
      parameters: { agent: 'openai', caller: '+15551230000' },
    });
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Connect>' +
        '<Stream url="wss://voice.example.com/twilio/media">' +
        '<Parameter name="agent" value="openai"/><Parameter name="caller" value="+15551230000"/>' +
        '</Stream></Connect></Response>',
    );
  });

  it('escapes values and carries name and statusCallback', () => {
    const xml = connectStreamTwiml({
      streamUrl: 'wss://h/twilio/media',
      name: 'call-1',
      statusCallback: 'https://h/twilio/status',
      parameters: { note: '<a & "b">' },
    });
    expect(xml).toContain('name="call-1"');
    expect(xml).toContain('statusCallback="https://h/twilio/status"');
    // '>' needs no escape inside an attribute (XML 1.0 §2.4).
    expect(xml).toMatch(/value="&lt;a &amp; &quot;b&quot;(>|&gt;)"/);
  });

  it.each([
    ['ws://h/twilio/media', /wss/],
    ['https://h/twilio/media', /wss/],
    ['wss://h/twilio/media?token=1', /query string/],
    ['not a url', /does not parse/],
  ])('refuses %j', (streamUrl, message) => {
    expect(() => connectStreamTwiml({ streamUrl })).toThrow(TwimlError);
    expect(() => connectStreamTwiml({ streamUrl })).toThrow(message);
  });

  it('drops characters XML 1.0 does not allow from a caller\'s fields, so the answer stays well-formed (a fuzz finding)', () => {
    const xml = connectStreamTwiml({
      streamUrl: 'wss://voice.example.com/twilio/media',
      parameters: { CallSid: '\u0000CA1', From: 'a\u0001b\uD800c\uFFFEd\u{1F600}', To: 'tab\there' },
    });
    expect(xml).toContain('<Parameter name="CallSid" value="CA1"/>');
    expect(xml).toContain('<Parameter name="From" value="abcd\u{1F600}"/>');
    // Tab is allowed, and escaped in an attribute so that it survives attribute normalization (XML 1.0 §3.3.3).
    expect(xml).toContain('<Parameter name="To" value="tab&#x9;here"/>');
    expect(xml).toMatch(/^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u);
  });

  it('derives the stream URL from a public base URL', () => {
    expect(streamUrlFor('https://voice.example.com')).toBe('wss://voice.example.com/twilio/media');
    expect(streamUrlFor('https://voice.example.com:8443/base/?x=1')).toBe('wss://voice.example.com:8443/base/twilio/media');
  });
});
