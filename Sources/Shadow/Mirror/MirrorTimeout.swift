/// The mirror side did not answer a batch within the mirror timeout.
struct MirrorTimeout: Error {}
