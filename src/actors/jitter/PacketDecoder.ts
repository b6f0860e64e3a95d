// The jitter buffer's payload decoder lives with the codecs (src/dsp/), where the main thread's stream client can use it too.
export * from '../../dsp/PacketDecoder.ts';
