// The post-call job module from source (tests, tsx): piscina imports this file
// in its thread; it registers tsx there and hands on the TypeScript module's
// handler. Built code loads dist/recording/postCallJobs.worker.js instead.
const tsx = await import('tsx/esm/api');
tsx.register();
const job = await import('./postCallJobs.worker.ts');
export default job.default;
