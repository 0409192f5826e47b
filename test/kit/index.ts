/** The one test kit: servers, a JSON client, polling, fixtures and the fake clock. Tests import from here. */
export { eventually, sleep, type EventuallyOptions } from './eventually.ts';
export { startTestServer, spawnServer, tempDir, type TestServer, type TestServerOptions, type ServerProcess, type SpawnOptions } from './servers.ts';
export { jsonApi, type JsonApi } from '../helpers/json-api.ts';
export { rejection } from '../helpers/async.ts';
export { embeddedResources } from '../helpers/embedded-resources.ts';
export { FakeClock, realClock, type Clock } from '../../src/kernel/clock/index.ts';
