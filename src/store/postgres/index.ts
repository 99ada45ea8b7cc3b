export { createPostgresStore, migratePostgres } from './postgres-store.js'
export type { PostgresStoreOptions } from './pool.js'
export { MIGRATIONS } from './migrations/index.js'
