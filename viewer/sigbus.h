/*
 * sigbus.h - shmview's one SIGBUS handler.
 *
 * The reader (core/trace.h) installs nothing: it says whether a fault lies
 * in an open trace and jumps back out of a read section.  The program owns
 * the signal: main() installs this handler once, before any command runs.
 */
#ifndef SHMVIEW_SIGBUS_H
#define SHMVIEW_SIGBUS_H

/*
 * Install the process-wide SIGBUS handler.  A fault in a trace open now
 * (its file was cut shorter under the mapping) goes back to the innermost
 * read section when there is one; otherwise shmview exits 1 with
 * "shmview: fatal: the trace file shrank while being read".  Any other
 * SIGBUS is a bug and gets the default action (the process dies of it).
 */
void sigbus_install(void);

#endif /* SHMVIEW_SIGBUS_H */
