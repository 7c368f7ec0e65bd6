#ifndef CS_STATEDIR_H
#define CS_STATEDIR_H

/* The names on disk that several modules (and the installer's and the tests' checks)
 * must agree on, each defined once here: the entries of the state folder ([store]
 * state_dir), of the transaction's folder under it, and the files the worker stages. */

/* ---- <state_dir> ---------------------------------------------------------------------- */
#define CS_STATE_JOURNAL "journal"          /* the renewal transaction's journal (journal.h) */
#define CS_STATE_LAST "last"                /* the last renewal's result (last.h) */
#define CS_STATE_COMMITTED "committed"      /* the certificate certsteward last put in service (committed.h) */
#define CS_STATE_TX "tx"                    /* the transaction's folder, below */
#define CS_STATE_ARCHIVE "archive"          /* archive/<thumbprint>: what a committed renewal replaced */
#define CS_STATE_INCOMING "incoming"        /* a dropped file, taken out of the drop folder */
#define CS_STATE_WAITING "waiting"          /* a valid file waiting for the maintenance window */
#define CS_STATE_PROCESSED "processed"      /* a committed drop, with [watch] keep_processed */
#define CS_STATE_INTERRUPTED "interrupted"  /* at start: what a stopped run left in incoming */
#define CS_STATE_QUARANTINE "quarantine"    /* a rejected file, with <name>CS_STATE_REASON_SUFFIX */
#define CS_STATE_REASON_SUFFIX ".reason"    /* beside a parked file: why it was parked */
#define CS_STATE_EXPIRY "expiry"            /* expiry events already given (expiry.h) */
#define CS_STATE_MONITORED "monitored"      /* [store] monitor's certificates in the metrics (daemon.h) */
#define CS_STATE_ADOPTED "adopted"          /* certificates found in the store or adopt_from, judged (adopted.h) */
#define CS_STATE_ADOPTING "adopting"        /* the certificate being adopted, as the worker reads it */
#define CS_STATE_LOCK "lock"                /* held by the daemon and by a command that changes things */
#define CS_STATE_EVENTS "events.jsonl"      /* the events file when [log] events_file is not set */
#define CS_STATE_METRICS "certsteward.prom" /* the metrics file when [log] metrics_file is not set */
#define CS_STATE_REQUEST "request"          /* a certificate request in flight: record, key, .csr (request.h) */
#define CS_REQUEST_RECORD "record"          /* in request/: the request's record */
#define CS_REQUEST_ENDED "ended"            /* in request/: when the last request ended */
#define CS_STATE_OUTBOX "outbox"            /* [request] route empty: the .csr for an admin to submit */
#define CS_STATE_CURRENT_CER "current.cer"  /* Windows: the certificate in service, DER, for the worker */

/* ---- <state_dir>/tx ------------------------------------------------------------------- */
#define CS_TX_STAGE "stage"               /* the staged files, below */
#define CS_TX_STORE_BACKUP "store"        /* what the store install replaced, and its manifest */
#define CS_TX_BINDINGS_BACKUP "bindings"  /* the binding files before their rewrite */
#define CS_TX_SKIPPED "skipped-endpoints" /* endpoints the probe may skip */

/* ---- <state_dir>/tx/stage: written by the worker, installed by the store ------------- */
#define CS_STAGE_CERT "cert.pem"     /* the leaf, then the chain */
#define CS_STAGE_CHAIN "chain.pem"   /* the chain after the leaf */
#define CS_STAGE_KEY "key.pem"       /* the key, unencrypted PKCS#8 (not written when key-less) */
#define CS_STAGE_BUNDLE "bundle.pem" /* leaf, chain and key (not written when key-less) */
#define CS_STAGE_LEAF_DER "leaf.der" /* the leaf, DER */
#define CS_PFX_FILE "store.pfx"      /* Windows: the PKCS#12 (only when there is a key; pfx.h) */
#define CS_PFX_INFO_FILE "store.txt" /* Windows: "name value" lines, see cs_pfx_stage (pfx.h) */

#endif
