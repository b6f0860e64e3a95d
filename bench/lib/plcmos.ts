/** The PLCMOS v2 scorer lives with the engine's quality code (the post-call report uses it too). */
export * from '../../src/qos/plcmos.ts';
