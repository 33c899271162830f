// System-call results: success with its values, or the kernel's errno name.

export type Errno =
  | "EINVAL"
  | "ENOENT"
  | "EBUSY"
  | "EAGAIN"
  | "EEXIST"
  | "EFAULT"
  | "ENOMEM"
  | "EPERM"
  | "ESRCH"
  | "EBADF"
  | "ENOTTY"
  | "EOPNOTSUPP"
  | "ENOSPC"
  | "ENODEV"
  | "EACCES"
  | "EINTR"

export interface SysError {
  readonly ok: false
  readonly errno: Errno
}

export type SysResult<T extends object = object> = ({ readonly ok: true } & T) | SysError

export const OK: { readonly ok: true } = { ok: true }

export function err(errno: Errno): SysError {
  return { ok: false, errno }
}

/** A __u64 flags argument with bits above 31 set (none of the kernel's flags live there). */
export function highBits(x: number): boolean {
  return !Number.isInteger(x) || x < 0 || x > 0xffffffff
}
