/** The flavors devstack creates, which the simulated Nova is seeded with. */
export interface SimFlavor {
  id: string;
  name: string;
  ram: number;
  disk: number;
  vcpus: number;
  ephemeral: number;
  swap: number;
  rxtx_factor: number;
  is_public: boolean;
  description: string | null;
  extra_specs: Record<string, string>;
}

const f = (id: string, name: string, ram: number, disk: number, vcpus: number): SimFlavor => ({
  id,
  name,
  ram,
  disk,
  vcpus,
  ephemeral: 0,
  swap: 0,
  rxtx_factor: 1.0,
  is_public: true,
  description: null,
  extra_specs: {},
});

export function devstackFlavors(): SimFlavor[] {
  return [
    f('1', 'm1.tiny', 512, 1, 1),
    f('2', 'm1.small', 2048, 20, 1),
    f('3', 'm1.medium', 4096, 40, 2),
    f('4', 'm1.large', 8192, 80, 4),
    f('5', 'm1.xlarge', 16384, 160, 8),
    f('42', 'm1.nano', 128, 1, 1),
    f('84', 'm1.micro', 192, 1, 1),
    f('c1', 'cirros256', 256, 1, 1),
  ];
}
