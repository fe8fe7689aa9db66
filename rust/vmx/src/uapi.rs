// SPDX-License-Identifier: GPL-2.0

//! The KVM user-space ABI subset rvisor implements: ioctl numbers and the
//! argument structures of `<linux/kvm.h>` (x86), bit for bit, so that KVM
//! clients work unchanged. Host tests compare every layout with rust-vmm's
//! `kvm-bindings` and every number with the values of the C header.

/// Encodes an ioctl number (`_IOC` of `asm-generic/ioctl.h`).
const fn ioc(dir: u32, nr: u32, size: usize) -> u32 {
    (dir << 30) | ((size as u32) << 16) | (KVMIO << 8) | nr
}
const NONE: u32 = 0;
const WRITE: u32 = 1;
const READ: u32 = 2;
const fn io(nr: u32) -> u32 {
    ioc(NONE, nr, 0)
}
const fn iow<T>(nr: u32) -> u32 {
    ioc(WRITE, nr, core::mem::size_of::<T>())
}
const fn ior<T>(nr: u32) -> u32 {
    ioc(READ, nr, core::mem::size_of::<T>())
}
const fn iowr<T>(nr: u32) -> u32 {
    ioc(READ | WRITE, nr, core::mem::size_of::<T>())
}

/// The KVM ioctl type byte.
pub const KVMIO: u32 = 0xae;
/// The only API version KVM clients accept.
pub const KVM_API_VERSION: i32 = 12;

/// System ioctl: API version.
pub const KVM_GET_API_VERSION: u32 = io(0x00);
/// System ioctl: create a VM, returns its fd.
pub const KVM_CREATE_VM: u32 = io(0x01);
/// System ioctl: the MSRs `KVM_GET/SET_MSRS` support.
pub const KVM_GET_MSR_INDEX_LIST: u32 = iowr::<KvmMsrList>(0x02);
/// System ioctl: is a capability supported.
pub const KVM_CHECK_EXTENSION: u32 = io(0x03);
/// System ioctl: size of the vCPU mmap area.
pub const KVM_GET_VCPU_MMAP_SIZE: u32 = io(0x04);
/// System ioctl: the CPUID leaves a guest may be given.
pub const KVM_GET_SUPPORTED_CPUID: u32 = iowr::<KvmCpuid2>(0x05);
/// VM ioctl: create a vCPU, returns its fd.
pub const KVM_CREATE_VCPU: u32 = io(0x41);
/// VM ioctl: add, change or delete a memory slot.
pub const KVM_SET_USER_MEMORY_REGION: u32 = iow::<KvmUserspaceMemoryRegion>(0x46);
/// VM ioctl: guest-physical address of 3 pages for the real-mode TSS.
pub const KVM_SET_TSS_ADDR: u32 = io(0x47);
/// VM ioctl: guest-physical address of the identity-map page table.
pub const KVM_SET_IDENTITY_MAP_ADDR: u32 = iow::<u64>(0x48);
/// VM ioctl: the GSI routing table of an in-kernel irqchip (the header,
/// `struct kvm_irq_routing` without its entries, is 8 bytes).
pub const KVM_SET_GSI_ROUTING: u32 = iow::<[u32; 2]>(0x6a);
/// `KVM_CHECK_EXTENSION(KVM_CAP_IRQ_ROUTING)`: KVM's `KVM_MAX_IRQ_ROUTES`.
pub const KVM_MAX_IRQ_ROUTES: u64 = 4096;
/// vCPU ioctl: run until an exit that user space must handle.
pub const KVM_RUN: u32 = io(0x80);
/// vCPU ioctl: read the general-purpose registers.
pub const KVM_GET_REGS: u32 = ior::<KvmRegs>(0x81);
/// vCPU ioctl: write the general-purpose registers.
pub const KVM_SET_REGS: u32 = iow::<KvmRegs>(0x82);
/// vCPU ioctl: read the special registers.
pub const KVM_GET_SREGS: u32 = ior::<KvmSregs>(0x83);
/// vCPU ioctl: write the special registers.
pub const KVM_SET_SREGS: u32 = iow::<KvmSregs>(0x84);
/// vCPU ioctl: read MSRs.
pub const KVM_GET_MSRS: u32 = iowr::<KvmMsrs>(0x88);
/// vCPU ioctl: write MSRs.
pub const KVM_SET_MSRS: u32 = iow::<KvmMsrs>(0x89);
/// vCPU ioctl: set the CPUID leaves the guest sees.
pub const KVM_SET_CPUID2: u32 = iow::<KvmCpuid2>(0x90);
/// vCPU ioctl: read back the CPUID leaves.
pub const KVM_GET_CPUID2: u32 = iowr::<KvmCpuid2>(0x91);
/// vCPU ioctl: queue an external interrupt (user-space interrupt
/// controller).
pub const KVM_INTERRUPT: u32 = iow::<KvmInterrupt>(0x86);

/// `struct kvm_interrupt`: the vector `KVM_INTERRUPT` delivers.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct KvmInterrupt {
    /// The vector, below [`KVM_NR_INTERRUPTS`].
    pub irq: u32,
}

/// Vectors `KVM_INTERRUPT` accepts.
pub const KVM_NR_INTERRUPTS: u32 = 256;

/// vCPU ioctl: queue an NMI.
pub const KVM_NMI: u32 = io(0x9a);

/// vCPU ioctl: the events waiting for delivery and the guest's blocking.
pub const KVM_GET_VCPU_EVENTS: u32 = ior::<KvmVcpuEvents>(0x9f);
/// vCPU ioctl: set them.
pub const KVM_SET_VCPU_EVENTS: u32 = iow::<KvmVcpuEvents>(0xa0);

/// `struct kvm_vcpu_events` (x86).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct KvmVcpuEvents {
    pub exception: KvmEventsException,
    pub interrupt: KvmEventsInterrupt,
    pub nmi: KvmEventsNmi,
    pub sipi_vector: u32,
    pub flags: u32,
    pub smi: KvmEventsSmi,
    pub triple_fault_pending: u8,
    pub reserved: [u8; 26],
    pub exception_has_payload: u8,
    pub exception_payload: u64,
}

/// `kvm_vcpu_events.exception`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct KvmEventsException {
    pub injected: u8,
    pub nr: u8,
    pub has_error_code: u8,
    pub pending: u8,
    pub error_code: u32,
}

/// `kvm_vcpu_events.interrupt`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct KvmEventsInterrupt {
    pub injected: u8,
    pub nr: u8,
    pub soft: u8,
    pub shadow: u8,
}

/// `kvm_vcpu_events.nmi`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct KvmEventsNmi {
    pub injected: u8,
    pub pending: u8,
    pub masked: u8,
    pub pad: u8,
}

/// `kvm_vcpu_events.smi`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct KvmEventsSmi {
    pub smm: u8,
    pub pending: u8,
    pub smm_inside_nmi: u8,
    pub latched_init: u8,
}

/// `kvm_vcpu_events.flags` bits.
pub mod vcpu_events {
    /// `nmi.pending` is valid.
    pub const VALID_NMI_PENDING: u32 = 1;
    /// `sipi_vector` is valid.
    pub const VALID_SIPI_VECTOR: u32 = 2;
    /// `interrupt.shadow` is valid.
    pub const VALID_SHADOW: u32 = 4;
    /// `smi` is valid.
    pub const VALID_SMM: u32 = 8;
    /// The exception payload is valid (`KVM_CAP_EXCEPTION_PAYLOAD`).
    pub const VALID_PAYLOAD: u32 = 16;
    /// `triple_fault` is valid (`KVM_CAP_X86_TRIPLE_FAULT_EVENT`).
    pub const VALID_TRIPLE_FAULT: u32 = 32;
    /// `interrupt.shadow`: blocking by MOV SS.
    pub const SHADOW_INT_MOV_SS: u8 = 1;
    /// `interrupt.shadow`: blocking by STI.
    pub const SHADOW_INT_STI: u8 = 2;
}

/// System ioctl: the MCG_CAP bits `KVM_X86_SETUP_MCE` accepts.
pub const KVM_X86_GET_MCE_CAP_SUPPORTED: u32 = ior::<u64>(0x9d);
/// vCPU ioctl: the vCPU's MCG_CAP (bank count and features).
pub const KVM_X86_SETUP_MCE: u32 = iow::<u64>(0x9c);
/// vCPU ioctl: the x87 and SSE registers in the FXSAVE layout.
pub const KVM_GET_FPU: u32 = ior::<KvmFpu>(0x8c);
/// vCPU ioctl: set them.
pub const KVM_SET_FPU: u32 = iow::<KvmFpu>(0x8d);

/// `struct kvm_fpu`: the x87 and SSE state of FXSAVE's legacy region
/// (SDM Vol. 1, 10.5.1, Table 10-2), with `ftwx` the abridged tag word.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct KvmFpu {
    /// ST(0)..ST(7), 80 bits each in 16-byte slots, in stack order.
    pub fpr: [[u8; 16]; 8],
    pub fcw: u16,
    pub fsw: u16,
    pub ftwx: u8,
    pub pad1: u8,
    pub last_opcode: u16,
    pub last_ip: u64,
    pub last_dp: u64,
    pub xmm: [[u8; 16]; 16],
    /// Neither read nor written by KVM's `KVM_GET/SET_FPU` (see
    /// [`crate::fpu`]).
    pub mxcsr: u32,
    pub pad2: u32,
}

/// vCPU ioctl: the vCPU's multiprocessing state.
pub const KVM_GET_MP_STATE: u32 = ior::<KvmMpState>(0x98);
/// vCPU ioctl: set the vCPU's multiprocessing state.
pub const KVM_SET_MP_STATE: u32 = iow::<KvmMpState>(0x99);

/// `struct kvm_mp_state`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct KvmMpState {
    /// One of the `KVM_MP_STATE_*` values ([`mp_state`]).
    pub mp_state: u32,
}

/// `kvm_mp_state.mp_state` values of x86.
pub mod mp_state {
    /// Runs (the only state of a vCPU without an in-kernel APIC).
    pub const RUNNABLE: u32 = 0;
    /// An AP waiting for INIT.
    pub const UNINITIALIZED: u32 = 1;
    /// INIT received, waiting for SIPI.
    pub const INIT_RECEIVED: u32 = 2;
    /// Halted in the kernel, waiting for an interrupt.
    pub const HALTED: u32 = 3;
    /// SIPI received.
    pub const SIPI_RECEIVED: u32 = 4;
    /// Halted by AMD's AP reset hold (SEV-ES).
    pub const AP_RESET_HOLD: u32 = 9;
}

/// `kvm_run.exit_reason` values.
pub mod exit {
    /// Unknown exit (never produced by rvisor).
    pub const UNKNOWN: u32 = 0;
    /// Port I/O: `kvm_run.io`.
    pub const IO: u32 = 2;
    /// The guest executed HLT.
    pub const HLT: u32 = 5;
    /// `kvm_run.request_interrupt_window` was set and the guest can take
    /// an interrupt now.
    pub const IRQ_WINDOW_OPEN: u32 = 7;
    /// MMIO: `kvm_run.mmio`.
    pub const MMIO: u32 = 6;
    /// Triple fault: the guest reset.
    pub const SHUTDOWN: u32 = 8;
    /// VM entry failed: `kvm_run.fail_entry`.
    pub const FAIL_ENTRY: u32 = 9;
    /// A signal interrupted KVM_RUN (which returns -EINTR).
    pub const INTR: u32 = 10;
    /// Something rvisor cannot handle: `kvm_run.internal`.
    pub const INTERNAL_ERROR: u32 = 17;
}

/// `kvm_run.io.direction` values.
pub mod io_dir {
    /// IN: user space writes the data.
    pub const IN: u8 = 0;
    /// OUT: user space reads the data.
    pub const OUT: u8 = 1;
}

/// `kvm_run.internal.suberror` values.
pub mod internal {
    /// An instruction could not be emulated.
    pub const EMULATION: u32 = 1;
    /// An exception raised while another event was delivered, which is not
    /// simulated (data: IDT-vectoring information, exit interruption
    /// information, its error code, the CPU).
    pub const SIMUL_EX: u32 = 2;
    /// An exit during event delivery that cannot be handled (`data[0]` the
    /// IDT-vectoring information, `data[1]` the exit reason, `data[2]` the
    /// exit qualification, then the GPA for an MMIO access, then the CPU).
    pub const DELIVERY_EV: u32 = 3;
    /// An exit reason rvisor does not handle; `data[0]` is the reason.
    pub const UNEXPECTED_EXIT_REASON: u32 = 4;
}

/// Memory slot flag: the guest may not write (writes exit as MMIO).
pub const KVM_MEM_READONLY: u32 = 1 << 1;
/// Memory slot flag: dirty logging (not supported by rvisor).
pub const KVM_MEM_LOG_DIRTY_PAGES: u32 = 1 << 0;

/// `struct kvm_regs`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct KvmRegs {
    pub rax: u64,
    pub rbx: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub rsp: u64,
    pub rbp: u64,
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rip: u64,
    pub rflags: u64,
}

/// `struct kvm_segment`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct KvmSegment {
    pub base: u64,
    pub limit: u32,
    pub selector: u16,
    pub type_: u8,
    pub present: u8,
    pub dpl: u8,
    pub db: u8,
    pub s: u8,
    pub l: u8,
    pub g: u8,
    pub avl: u8,
    pub unusable: u8,
    pub padding: u8,
}

/// `struct kvm_dtable`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct KvmDtable {
    pub base: u64,
    pub limit: u16,
    pub padding: [u16; 3],
}

/// `struct kvm_sregs`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct KvmSregs {
    pub cs: KvmSegment,
    pub ds: KvmSegment,
    pub es: KvmSegment,
    pub fs: KvmSegment,
    pub gs: KvmSegment,
    pub ss: KvmSegment,
    pub tr: KvmSegment,
    pub ldt: KvmSegment,
    pub gdt: KvmDtable,
    pub idt: KvmDtable,
    pub cr0: u64,
    pub cr2: u64,
    pub cr3: u64,
    pub cr4: u64,
    pub cr8: u64,
    pub efer: u64,
    pub apic_base: u64,
    pub interrupt_bitmap: [u64; 4],
}

/// `struct kvm_userspace_memory_region`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct KvmUserspaceMemoryRegion {
    pub slot: u32,
    pub flags: u32,
    pub guest_phys_addr: u64,
    pub memory_size: u64,
    pub userspace_addr: u64,
}

/// `struct kvm_cpuid_entry2`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct KvmCpuidEntry2 {
    pub function: u32,
    pub index: u32,
    pub flags: u32,
    pub eax: u32,
    pub ebx: u32,
    pub ecx: u32,
    pub edx: u32,
    pub padding: [u32; 3],
}

/// `kvm_cpuid_entry2.flags`: the leaf has sub-leaves selected by ECX.
pub const KVM_CPUID_FLAG_SIGNIFCANT_INDEX: u32 = 1 << 0;

/// The header of `struct kvm_cpuid2`; `nent` entries follow it.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct KvmCpuid2 {
    pub nent: u32,
    pub padding: u32,
}

/// The header of `struct kvm_msr_list`; `nmsrs` u32 indices follow it.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct KvmMsrList {
    pub nmsrs: u32,
}

/// `KVM_CHECK_EXTENSION` capability numbers rvisor answers.
pub mod cap {
    #![allow(missing_docs)]
    pub const USER_MEMORY: u64 = 3;
    pub const SET_TSS_ADDR: u64 = 4;
    pub const EXT_CPUID: u64 = 7;
    pub const MP_STATE: u64 = 14;
    pub const USER_NMI: u64 = 22;
    pub const VCPU_EVENTS: u64 = 41;
    pub const NR_VCPUS: u64 = 9;
    pub const NR_MEMSLOTS: u64 = 10;
    pub const DESTROY_MEMORY_REGION_WORKS: u64 = 21;
    pub const SET_IDENTITY_MAP_ADDR: u64 = 37;
    pub const INTERNAL_ERROR_DATA: u64 = 40;
    pub const MAX_VCPUS: u64 = 66;
    pub const READONLY_MEM: u64 = 81;
    pub const MAX_VCPU_ID: u64 = 128;
    pub const IMMEDIATE_EXIT: u64 = 136;
    pub const IRQ_ROUTING: u64 = 25;
    pub const MCE: u64 = 31;
    pub const JOIN_MEMORY_REGIONS_WORKS: u64 = 30;
}

/// `struct kvm_msr_entry`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct KvmMsrEntry {
    pub index: u32,
    pub reserved: u32,
    pub data: u64,
}

/// The header of `struct kvm_msrs`; `nmsrs` entries follow it.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct KvmMsrs {
    pub nmsrs: u32,
    pub pad: u32,
}

/// `kvm_run.io`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct KvmRunIo {
    pub direction: u8,
    pub size: u8,
    pub port: u16,
    pub count: u32,
    /// Offset of the data from the start of the run page.
    pub data_offset: u64,
}

/// `kvm_run.mmio`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct KvmRunMmio {
    pub phys_addr: u64,
    pub data: [u8; 8],
    pub len: u32,
    pub is_write: u8,
}

/// `kvm_run.fail_entry`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct KvmRunFailEntry {
    pub hardware_entry_failure_reason: u64,
    pub cpu: u32,
}

/// `kvm_run.internal`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct KvmRunInternal {
    pub suberror: u32,
    pub ndata: u32,
    pub data: [u64; 16],
}

/// The exit-information union of `struct kvm_run` (256 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(missing_docs)]
pub union KvmRunExit {
    pub io: KvmRunIo,
    pub mmio: KvmRunMmio,
    pub fail_entry: KvmRunFailEntry,
    pub internal: KvmRunInternal,
    pub padding: [u8; 256],
}

/// `struct kvm_run`, the page shared with user space through mmap of the
/// vCPU fd. Fields after `exit` (`kvm_valid_regs`, `kvm_dirty_regs`, the
/// 2 KiB sync-regs union) are not used by rvisor and left zero.
#[repr(C)]
#[allow(missing_docs)]
pub struct KvmRun {
    pub request_interrupt_window: u8,
    pub immediate_exit: u8,
    pub padding1: [u8; 6],
    pub exit_reason: u32,
    pub ready_for_interrupt_injection: u8,
    pub if_flag: u8,
    pub flags: u16,
    pub cr8: u64,
    pub apic_base: u64,
    pub exit: KvmRunExit,
    pub kvm_valid_regs: u64,
    pub kvm_dirty_regs: u64,
    pub s: [u8; 2048],
}

/// Offset in the vCPU mapping of the port I/O data page (page 1), where
/// `kvm_run.io.data_offset` points, as in KVM.
pub const PIO_DATA_OFFSET: u64 = 4096;
/// Pages in the vCPU mapping: run page, port I/O data page and KVM's
/// coalesced-MMIO ring page (kept zero), as KVM reports on x86.
pub const VCPU_MMAP_PAGES: usize = 3;

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};
    use kvm_bindings as kb;

    #[test]
    fn ioctl_numbers_match_linux_kvm_h() {
        // Values of the macros in <linux/kvm.h> on x86_64.
        assert_eq!(KVM_GET_API_VERSION, 0xae00);
        assert_eq!(KVM_CREATE_VM, 0xae01);
        assert_eq!(KVM_CHECK_EXTENSION, 0xae03);
        assert_eq!(KVM_GET_MSR_INDEX_LIST, 0xc004ae02);
        assert_eq!(KVM_GET_VCPU_MMAP_SIZE, 0xae04);
        assert_eq!(KVM_GET_SUPPORTED_CPUID, 0xc008ae05);
        assert_eq!(KVM_CREATE_VCPU, 0xae41);
        assert_eq!(KVM_SET_USER_MEMORY_REGION, 0x4020ae46);
        assert_eq!(KVM_SET_TSS_ADDR, 0xae47);
        assert_eq!(KVM_SET_IDENTITY_MAP_ADDR, 0x4008ae48);
        assert_eq!(KVM_RUN, 0xae80);
        assert_eq!(KVM_GET_REGS, 0x8090ae81);
        assert_eq!(KVM_SET_REGS, 0x4090ae82);
        assert_eq!(KVM_GET_SREGS, 0x8138ae83);
        assert_eq!(KVM_SET_SREGS, 0x4138ae84);
        assert_eq!(KVM_GET_MSRS, 0xc008ae88);
        assert_eq!(KVM_SET_MSRS, 0x4008ae89);
        assert_eq!(KVM_SET_CPUID2, 0x4008ae90);
        assert_eq!(KVM_GET_CPUID2, 0xc008ae91);
        assert_eq!(KVM_INTERRUPT, 0x4004ae86);
        assert_eq!(KVM_NMI, 0xae9a);
        assert_eq!(KVM_GET_VCPU_EVENTS, 0x8040ae9f);
        assert_eq!(KVM_SET_VCPU_EVENTS, 0x4040aea0);
        assert_eq!(KVM_GET_MP_STATE, 0x8004ae98);
        assert_eq!(KVM_SET_MP_STATE, 0x4004ae99);
        assert_eq!(KVM_GET_FPU, 0x81a0ae8c);
        assert_eq!(KVM_SET_GSI_ROUTING, 0x4008ae6a);
        assert_eq!(KVM_X86_GET_MCE_CAP_SUPPORTED, 0x8008ae9d);
        assert_eq!(KVM_X86_SETUP_MCE, 0x4008ae9c);
        assert_eq!(KVM_SET_FPU, 0x41a0ae8d);
    }

    #[test]
    fn constants_match_kvm_bindings() {
        assert_eq!(exit::IO, kb::KVM_EXIT_IO);
        assert_eq!(exit::HLT, kb::KVM_EXIT_HLT);
        assert_eq!(exit::IRQ_WINDOW_OPEN, kb::KVM_EXIT_IRQ_WINDOW_OPEN);
        assert_eq!(KVM_NR_INTERRUPTS, kb::KVM_NR_INTERRUPTS);
        assert_eq!(exit::MMIO, kb::KVM_EXIT_MMIO);
        assert_eq!(exit::SHUTDOWN, kb::KVM_EXIT_SHUTDOWN);
        assert_eq!(exit::FAIL_ENTRY, kb::KVM_EXIT_FAIL_ENTRY);
        assert_eq!(exit::INTR, kb::KVM_EXIT_INTR);
        assert_eq!(exit::INTERNAL_ERROR, kb::KVM_EXIT_INTERNAL_ERROR);
        assert_eq!(u32::from(io_dir::IN), kb::KVM_EXIT_IO_IN);
        assert_eq!(u32::from(io_dir::OUT), kb::KVM_EXIT_IO_OUT);
        assert_eq!(internal::EMULATION, kb::KVM_INTERNAL_ERROR_EMULATION);
        assert_eq!(internal::SIMUL_EX, kb::KVM_INTERNAL_ERROR_SIMUL_EX);
        assert_eq!(
            internal::UNEXPECTED_EXIT_REASON,
            kb::KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON
        );
        assert_eq!(KVM_MEM_READONLY, kb::KVM_MEM_READONLY);
        assert_eq!(KVM_MEM_LOG_DIRTY_PAGES, kb::KVM_MEM_LOG_DIRTY_PAGES);
        assert_eq!(KVM_API_VERSION, kb::KVM_API_VERSION as i32);
        assert_eq!(
            KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
            kb::KVM_CPUID_FLAG_SIGNIFCANT_INDEX
        );
        let caps = [
            (cap::USER_MEMORY, kb::KVM_CAP_USER_MEMORY),
            (cap::SET_TSS_ADDR, kb::KVM_CAP_SET_TSS_ADDR),
            (cap::EXT_CPUID, kb::KVM_CAP_EXT_CPUID),
            (cap::NR_VCPUS, kb::KVM_CAP_NR_VCPUS),
            (cap::NR_MEMSLOTS, kb::KVM_CAP_NR_MEMSLOTS),
            (
                cap::DESTROY_MEMORY_REGION_WORKS,
                kb::KVM_CAP_DESTROY_MEMORY_REGION_WORKS,
            ),
            (
                cap::SET_IDENTITY_MAP_ADDR,
                kb::KVM_CAP_SET_IDENTITY_MAP_ADDR,
            ),
            (cap::INTERNAL_ERROR_DATA, kb::KVM_CAP_INTERNAL_ERROR_DATA),
            (cap::MAX_VCPUS, kb::KVM_CAP_MAX_VCPUS),
            (cap::READONLY_MEM, kb::KVM_CAP_READONLY_MEM),
            (cap::MAX_VCPU_ID, kb::KVM_CAP_MAX_VCPU_ID),
            (cap::IMMEDIATE_EXIT, kb::KVM_CAP_IMMEDIATE_EXIT),
            (cap::IRQ_ROUTING, kb::KVM_CAP_IRQ_ROUTING),
            (cap::MCE, kb::KVM_CAP_MCE),
            (
                cap::JOIN_MEMORY_REGIONS_WORKS,
                kb::KVM_CAP_JOIN_MEMORY_REGIONS_WORKS,
            ),
            (cap::MP_STATE, kb::KVM_CAP_MP_STATE),
            (cap::USER_NMI, kb::KVM_CAP_USER_NMI),
            (cap::VCPU_EVENTS, kb::KVM_CAP_VCPU_EVENTS),
        ];
        for (ours, theirs) in caps {
            assert_eq!(ours, u64::from(theirs));
        }
    }

    #[test]
    fn struct_layouts_match_kvm_bindings() {
        assert_eq!(size_of::<KvmRegs>(), size_of::<kb::kvm_regs>());
        assert_eq!(offset_of!(KvmRegs, rip), offset_of!(kb::kvm_regs, rip));
        assert_eq!(
            offset_of!(KvmRegs, rflags),
            offset_of!(kb::kvm_regs, rflags)
        );
        assert_eq!(size_of::<KvmSegment>(), size_of::<kb::kvm_segment>());
        assert_eq!(
            offset_of!(KvmSegment, unusable),
            offset_of!(kb::kvm_segment, unusable)
        );
        assert_eq!(size_of::<KvmDtable>(), size_of::<kb::kvm_dtable>());
        assert_eq!(size_of::<KvmSregs>(), size_of::<kb::kvm_sregs>());
        assert_eq!(offset_of!(KvmSregs, gdt), offset_of!(kb::kvm_sregs, gdt));
        assert_eq!(offset_of!(KvmSregs, cr0), offset_of!(kb::kvm_sregs, cr0));
        assert_eq!(offset_of!(KvmSregs, efer), offset_of!(kb::kvm_sregs, efer));
        assert_eq!(
            offset_of!(KvmSregs, interrupt_bitmap),
            offset_of!(kb::kvm_sregs, interrupt_bitmap)
        );
        assert_eq!(
            size_of::<KvmUserspaceMemoryRegion>(),
            size_of::<kb::kvm_userspace_memory_region>()
        );
        assert_eq!(
            offset_of!(KvmUserspaceMemoryRegion, userspace_addr),
            offset_of!(kb::kvm_userspace_memory_region, userspace_addr)
        );
        assert_eq!(
            size_of::<KvmCpuidEntry2>(),
            size_of::<kb::kvm_cpuid_entry2>()
        );
        assert_eq!(
            offset_of!(KvmCpuidEntry2, edx),
            offset_of!(kb::kvm_cpuid_entry2, edx)
        );
        assert_eq!(size_of::<KvmCpuid2>(), 8);
        assert_eq!(size_of::<KvmMsrEntry>(), size_of::<kb::kvm_msr_entry>());
        assert_eq!(size_of::<KvmMsrs>(), 8);
    }

    #[test]
    fn kvm_run_layout_matches_kvm_bindings() {
        assert_eq!(size_of::<KvmRun>(), size_of::<kb::kvm_run>());
        assert_eq!(size_of::<KvmInterrupt>(), size_of::<kb::kvm_interrupt>());
        assert_eq!(size_of::<KvmMpState>(), size_of::<kb::kvm_mp_state>());
        assert_eq!(size_of::<KvmFpu>(), size_of::<kb::kvm_fpu>());
        assert_eq!(offset_of!(KvmFpu, ftwx), offset_of!(kb::kvm_fpu, ftwx));
        assert_eq!(
            offset_of!(KvmFpu, last_dp),
            offset_of!(kb::kvm_fpu, last_dp)
        );
        assert_eq!(offset_of!(KvmFpu, xmm), offset_of!(kb::kvm_fpu, xmm));
        assert_eq!(offset_of!(KvmFpu, mxcsr), offset_of!(kb::kvm_fpu, mxcsr));
        assert_eq!(size_of::<KvmVcpuEvents>(), size_of::<kb::kvm_vcpu_events>());
        assert_eq!(
            offset_of!(KvmVcpuEvents, nmi),
            offset_of!(kb::kvm_vcpu_events, nmi)
        );
        assert_eq!(
            offset_of!(KvmVcpuEvents, flags),
            offset_of!(kb::kvm_vcpu_events, flags)
        );
        assert_eq!(
            offset_of!(KvmVcpuEvents, smi),
            offset_of!(kb::kvm_vcpu_events, smi)
        );
        assert_eq!(
            offset_of!(KvmVcpuEvents, triple_fault_pending),
            offset_of!(kb::kvm_vcpu_events, triple_fault)
        );
        assert_eq!(
            offset_of!(KvmVcpuEvents, exception_has_payload),
            offset_of!(kb::kvm_vcpu_events, exception_has_payload)
        );
        assert_eq!(
            offset_of!(KvmVcpuEvents, exception_payload),
            offset_of!(kb::kvm_vcpu_events, exception_payload)
        );
        assert_eq!(
            vcpu_events::VALID_NMI_PENDING,
            kb::KVM_VCPUEVENT_VALID_NMI_PENDING
        );
        assert_eq!(
            vcpu_events::VALID_SIPI_VECTOR,
            kb::KVM_VCPUEVENT_VALID_SIPI_VECTOR
        );
        assert_eq!(vcpu_events::VALID_SHADOW, kb::KVM_VCPUEVENT_VALID_SHADOW);
        assert_eq!(vcpu_events::VALID_SMM, kb::KVM_VCPUEVENT_VALID_SMM);
        assert_eq!(vcpu_events::VALID_PAYLOAD, kb::KVM_VCPUEVENT_VALID_PAYLOAD);
        assert_eq!(
            vcpu_events::VALID_TRIPLE_FAULT,
            kb::KVM_VCPUEVENT_VALID_TRIPLE_FAULT
        );
        assert_eq!(
            u32::from(vcpu_events::SHADOW_INT_MOV_SS),
            kb::KVM_X86_SHADOW_INT_MOV_SS
        );
        assert_eq!(
            u32::from(vcpu_events::SHADOW_INT_STI),
            kb::KVM_X86_SHADOW_INT_STI
        );
        assert_eq!(mp_state::RUNNABLE, kb::KVM_MP_STATE_RUNNABLE);
        assert_eq!(mp_state::UNINITIALIZED, kb::KVM_MP_STATE_UNINITIALIZED);
        assert_eq!(mp_state::INIT_RECEIVED, kb::KVM_MP_STATE_INIT_RECEIVED);
        assert_eq!(mp_state::HALTED, kb::KVM_MP_STATE_HALTED);
        assert_eq!(mp_state::SIPI_RECEIVED, kb::KVM_MP_STATE_SIPI_RECEIVED);
        assert_eq!(mp_state::AP_RESET_HOLD, kb::KVM_MP_STATE_AP_RESET_HOLD);
        assert_eq!(size_of::<KvmRun>(), 2352);
        assert_eq!(
            offset_of!(KvmRun, immediate_exit),
            offset_of!(kb::kvm_run, immediate_exit)
        );
        assert_eq!(offset_of!(KvmRun, exit_reason), 8);
        assert_eq!(
            offset_of!(KvmRun, exit_reason),
            offset_of!(kb::kvm_run, exit_reason)
        );
        assert_eq!(
            offset_of!(KvmRun, exit),
            offset_of!(kb::kvm_run, __bindgen_anon_1)
        );
        assert_eq!(
            offset_of!(KvmRun, kvm_valid_regs),
            offset_of!(kb::kvm_run, kvm_valid_regs)
        );
        assert_eq!(size_of::<KvmRunExit>(), 256);
        assert_eq!(
            size_of::<KvmRunIo>(),
            size_of::<kb::kvm_run__bindgen_ty_1__bindgen_ty_4>()
        );
        assert_eq!(
            offset_of!(KvmRunIo, data_offset),
            offset_of!(kb::kvm_run__bindgen_ty_1__bindgen_ty_4, data_offset)
        );
        assert_eq!(
            offset_of!(KvmRunMmio, is_write),
            offset_of!(kb::kvm_run__bindgen_ty_1__bindgen_ty_6, is_write)
        );
        assert_eq!(offset_of!(KvmRunInternal, data), 8);
    }
}
