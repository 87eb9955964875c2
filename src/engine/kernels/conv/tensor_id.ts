// A number per tensor for the native conv kernels' caches of converted inputs (bf16 copies, weights in
// oneDNN's blocked layout). TF.js tensors are immutable and every new value gets a new dataId (an optimizer
// step assigns a new dataId to its variable), so one id stands for one tensor's values for as long as it lives.
const ids = new WeakMap<object, number>();
let next = 1;

export function tensorId(dataId: object): number {
  let id = ids.get(dataId);
  if (id === undefined) {
    id = next++;
    ids.set(dataId, id);
  }
  return id;
}
