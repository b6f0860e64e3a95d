import { createSocket } from 'node:dgram';

/** A UDP port on 127.0.0.1 free at the moment (whoever binds it next takes it: a daemon or peer started right after). */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
