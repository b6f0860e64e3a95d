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

  it('derives the stream URL from a public base URL', () => {
    expect(streamUrlFor('https://voice.example.com')).toBe('wss://voice.example.com/twilio/media');
    expect(streamUrlFor('https://voice.example.com:8443/base/?x=1')).toBe('wss://voice.example.com:8443/base/twilio/media');
  });
});
