/**
 * Fault tolerance under load (issue 11), on PostgreSQL and Redis: the server SIGKILLed, Redis
 * restarted empty, PostgreSQL stopped, a delivery target down. Each fault prints one line,
 * `faults: <name> key=value …`, with its counts; lost and duplicated work must be 0.
 *
 * The faults run side by side (each with its own database, Redis prefix or private instance, port
 * and target): the SIGKILL alone waits ~30–90 s for BullMQ to see the dead process's job locks
 * lapse. Duration: `FAULT_SECONDS` of load at `FAULT_RATE` alerts/s (default 10), 24 s by default
 * and 6 s when `CI=true`. Private Redis and PostgreSQL come from test/helpers/fault-services.ts; the
 * shared ones are never stopped.
 */
import { describe } from 'vitest';
import { serviceAvailable } from '../helpers/services.js';
import { deliveryTargetDown } from './delivery-target-down.js';
import { postgresStop } from './postgres-stop.js';
import { redisRestart } from './redis-restart.js';
import { sigkillServer } from './sigkill-server.js';

// At module level, so that WARDEN_REQUIRE_SERVICES=1 without either service fails loudly.
const postgres = serviceAvailable('DATABASE_URL');
const redis = serviceAvailable('REDIS_URL');

describe.runIf(postgres && redis)('faults under load [postgres, redis]', () => {
  sigkillServer();
  redisRestart();
  postgresStop();
});

describe.runIf(postgres)('faults in delivery [postgres]', () => {
  deliveryTargetDown();
});
