package dev.opensandbox.core.store;

/** States of a snapshot; the wire names are the enum names in title case, as upstream. */
public enum SnapshotState {
    Creating, Ready, Failed, Deleting
}
