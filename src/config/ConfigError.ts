/** A configuration that cannot start the daemon; the message is for the user. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
