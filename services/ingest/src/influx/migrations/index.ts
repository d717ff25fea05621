import type { InfluxMigration } from './migration.js';
import { RetentionPolicies0001 } from './0001-retention-policies.js';
import { ContinuousQueries0002 } from './0002-continuous-queries.js';
import { ContinuousQueriesWithSum0003 } from './0003-continuous-queries-with-sum.js';
import { CheaperContinuousQueries0004 } from './0004-cheaper-continuous-queries.js';
import { DownsamplingWithoutContinuousQueries0005 } from './0005-downsampling-without-continuous-queries.js';

/** Every step, in order. A change of the schema is a new step; an applied step is never edited. */
export const INFLUX_MIGRATIONS: InfluxMigration[] = [RetentionPolicies0001, ContinuousQueries0002, ContinuousQueriesWithSum0003, CheaperContinuousQueries0004, DownsamplingWithoutContinuousQueries0005];
export type { InfluxMigration, MigrationContext } from './migration.js';
