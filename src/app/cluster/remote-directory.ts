import type { DirectoryEntry, PlaceRequest, StreamDirectory } from './directory';
import type { IpcPeer } from './ipc';

/** The primary's directory as seen from a worker: every call one IPC request. */
export class RemoteDirectory implements StreamDirectory {
  constructor(private readonly peer: IpcPeer) {}

  async lookup(path: string): Promise<DirectoryEntry | undefined> {
    return (await this.peer.request<DirectoryEntry | null>('dir.lookup', { path })) ?? undefined;
  }

  async place(request: PlaceRequest): Promise<DirectoryEntry | undefined> {
    return (await this.peer.request<DirectoryEntry | null>('dir.place', request)) ?? undefined;
  }

  register(path: string, slot: number): Promise<DirectoryEntry> {
    return this.peer.request('dir.register', { path, slot });
  }

  async unregister(path: string, slot: number): Promise<void> {
    await this.peer.request('dir.unregister', { path, slot });
  }

  list(): Promise<DirectoryEntry[]> {
    return this.peer.request('dir.list');
  }

  hold(path: string, slot: number): Promise<number> {
    return this.peer.request('dir.hold', { path, slot });
  }

  async release(path: string, slot: number): Promise<void> {
    await this.peer.request('dir.release', { path, slot });
  }
}
