import v8 from 'node:v8';

/**
 * V8's allocation-site pretenuring, off, for the process that imports this first (the gateway,
 * and the bench's Thrift floor). V8 allocates the objects of a site straight in the old
 * generation once it finds most of them alive at a young collection. Under load that happens
 * to the sites that decode a backend's reply (a face's 106 landmarks): the replies of the
 * calls in flight are alive at every scavenge, so the site is pretenured, and from then on
 * every reply is old-generation garbage that only a full collection frees, and every scavenge
 * scans it. Measured with the bench's Thrift floor on one core (2026-11-28): a scavenge's median
 * 13 ms → 1.8 ms, full collections 5–7 → 2 in 6 s, CPU per call 0.094–0.099 → 0.058 ms.
 * Set at run time (`v8.setFlagsFromString`) rather than on each command line, so that
 * `npm start`, the container, the workers and the tests all run the same way.
 */
v8.setFlagsFromString('--no-allocation-site-pretenuring');
