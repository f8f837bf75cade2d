/**
 * A background job owned by one feature (sweeper, reconciler, order expiry…): the composition root
 * starts it once everything is wired and stops it, in reverse order, on shutdown. Its own file so a
 * feature can declare jobs without importing the list of features that imports it.
 */
export interface Job {
  name: string;
  start(): void;
  stop(): Promise<void> | void;
}

/** Anything the composition root stops on shutdown, in reverse order of building. */
export interface Stoppable {
  name: string;
  stop(): Promise<void> | void;
}
