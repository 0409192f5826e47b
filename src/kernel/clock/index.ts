/** Time as a port: the real clock for production, a fake one that tests step. See docs/kernel.md#clock. */
export { realClock, type Clock, type Timer } from './clock.ts';
export { FakeClock, type FakeClockOptions } from './fake-clock.ts';
