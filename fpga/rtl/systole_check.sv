// The static checks of the contract's section 8.2, in its order: what an instruction word is
// wrong with, from the word alone (NO_WEIGHTS depends on the array's state and is checked at the
// issue stage). Purely combinational; all sums are wide enough never to overflow. No assertions
// here (its output is the contract's rule itself): the LOAD and STORE units assert that the rows
// of an instruction it passed stay inside their buffer.
module systole_check
#(
  parameter int unsigned ArrayDim = 16,
  parameter int unsigned AbufRows = 4096,
  parameter int unsigned WbufRows = 4096,
  parameter int unsigned AccRows  = 4096,
  parameter int unsigned HbmMb    = 16384,
  parameter int unsigned VectorUnit = 0,
  parameter int unsigned LutRows  = 0
) (
  input  logic [255:0] instr_i,
  output logic [7:0]   error_o
);

  localparam logic [55:0] HbmBytes = 56'(HbmMb) << 20;
  localparam int unsigned TableRows = (256 + ArrayDim - 1) / ArrayDim;  // T of contract 2

  // Functions in the Verilog-2005 form (inputs declared, result assigned to the name), which
  // every synthesis front end reads.
  function automatic logic [63:0] field(input logic [255:0] w, input int unsigned lsb,
                                        input int unsigned width);
    field = 64'((w >> lsb) & ((256'(1) << width) - 256'(1)));
  endfunction

  function automatic logic [39:0] buf_rows(input logic [1:0] b);
    unique case (b)
      systole_pkg::BufAbuf: buf_rows = 40'(AbufRows);
      systole_pkg::BufWbuf: buf_rows = 40'(WbufRows);
      systole_pkg::BufAcc:  buf_rows = 40'(AccRows);
      default: buf_rows = 40'(LutRows);
    endcase
  endfunction

  // One past the last row of a run starting at `first`, against the buffer's size.
  function automatic logic past_end(input logic [63:0] first, input logic [63:0] rows,
                                    input int unsigned size);
    past_end = 72'(first) + 72'(rows) > 72'(size);
  endfunction

  function automatic logic overlap_bad(input logic [63:0] src, input logic [63:0] dst,
                                       input logic [63:0] rows);
    overlap_bad = src != dst && src < dst + rows && dst < src + rows;
  endfunction

  // Runs of different lengths: bad unless they are the same rows or share none.
  function automatic logic overlap_runs(input logic [63:0] src, input logic [63:0] src_rows,
                                        input logic [63:0] dst, input logic [63:0] dst_rows);
    overlap_runs = !(src == dst && src_rows == dst_rows) && src < dst + dst_rows
        && dst < src + src_rows;
  endfunction

  logic [7:0]  opcode;
  logic [255:0] defined;
  assign opcode = instr_i[7:0];

  always_comb begin
    unique case (opcode)
      systole_pkg::OpLoad:    defined = systole_pkg::LoadFieldBits;
      systole_pkg::OpStore:   defined = systole_pkg::StoreFieldBits;
      systole_pkg::OpMatmul:  defined = systole_pkg::MatmulFieldBits;
      systole_pkg::OpRequant: defined = systole_pkg::RequantFieldBits;
      systole_pkg::OpVmax:    defined = systole_pkg::VmaxFieldBits;
      systole_pkg::OpVadd:    defined = systole_pkg::VaddFieldBits;
      systole_pkg::OpFence:   defined = systole_pkg::FenceFieldBits;
      systole_pkg::OpHalt:    defined = systole_pkg::HaltFieldBits;
      systole_pkg::OpVlut:    defined = systole_pkg::VlutFieldBits;
      systole_pkg::OpVscale:  defined = systole_pkg::VscaleFieldBits;
      systole_pkg::OpVmul:    defined = systole_pkg::VmulFieldBits;
      systole_pkg::OpVreduce: defined = systole_pkg::VreduceFieldBits;
      systole_pkg::OpVmac:    defined = systole_pkg::VmacFieldBits;
      systole_pkg::OpVsoftmax: defined = systole_pkg::VsoftmaxFieldBits;
      systole_pkg::OpVnorm:   defined = systole_pkg::VnormFieldBits;
      default:   defined = systole_pkg::VtransFieldBits;
    endcase
  end

  // LOAD and STORE share the positions of buf, row, elem_bytes, hbm_addr, sizes and strides.
  logic        is_load;
  logic [1:0]  xfer_buf;
  logic [63:0] xfer_row, elem, hbm_addr, x_size, y_size, x_stride, y_stride;
  logic [63:0] x_pad0, x_pad1, y_pad0, y_pad1, xfer_rows, row_bytes;
  logic [63:0] span;
  assign is_load  = opcode == systole_pkg::OpLoad;
  assign xfer_buf = instr_i[systole_pkg::LoadBufLsb +: systole_pkg::LoadBufWidth];
  assign xfer_row = field(instr_i, systole_pkg::LoadDstRowLsb, systole_pkg::LoadDstRowWidth);
  assign elem     = field(instr_i, systole_pkg::LoadElemBytesLsb, systole_pkg::LoadElemBytesWidth);
  assign hbm_addr = field(instr_i, systole_pkg::LoadHbmAddrLsb, systole_pkg::LoadHbmAddrWidth);
  assign x_size   = field(instr_i, systole_pkg::LoadXSizeLsb, systole_pkg::LoadXSizeWidth);
  assign y_size   = field(instr_i, systole_pkg::LoadYSizeLsb, systole_pkg::LoadYSizeWidth);
  assign x_stride = field(instr_i, systole_pkg::LoadXStrideLsb, systole_pkg::LoadXStrideWidth);
  assign y_stride = field(instr_i, systole_pkg::LoadYStrideLsb, systole_pkg::LoadYStrideWidth);
  assign x_pad0   = is_load ? field(instr_i, systole_pkg::LoadXPad0Lsb, systole_pkg::LoadXPad0Width) : '0;
  assign x_pad1   = is_load ? field(instr_i, systole_pkg::LoadXPad1Lsb, systole_pkg::LoadXPad1Width) : '0;
  assign y_pad0   = is_load ? field(instr_i, systole_pkg::LoadYPad0Lsb, systole_pkg::LoadYPad0Width) : '0;
  assign y_pad1   = is_load ? field(instr_i, systole_pkg::LoadYPad1Lsb, systole_pkg::LoadYPad1Width) : '0;
  assign xfer_rows = (x_pad0 + x_size + x_pad1) * (y_pad0 + y_size + y_pad1);
  assign row_bytes = xfer_buf == systole_pkg::BufAcc ? 64'(4 * ArrayDim)
      : xfer_buf == systole_pkg::BufLut ? 64'(2 * ArrayDim) : 64'(ArrayDim);
  // One past the last byte touched, when sizes are not 0 (checked before this is used).
  assign span = hbm_addr + (y_size - 1) * y_stride + (x_size - 1) * x_stride + elem;

  // MATMUL
  logic        w_load, w_swap, w_preload;
  logic [63:0] mm_a_row, mm_acc_row, mm_rows, mm_w_row, mm_pre_row;
  assign w_load     = instr_i[systole_pkg::MatmulWLoadLsb];
  assign w_swap     = instr_i[systole_pkg::MatmulWSwapLsb];
  assign w_preload  = instr_i[systole_pkg::MatmulWPreloadLsb];
  assign mm_a_row   = field(instr_i, systole_pkg::MatmulARowLsb, systole_pkg::MatmulARowWidth);
  assign mm_acc_row = field(instr_i, systole_pkg::MatmulAccRowLsb, systole_pkg::MatmulAccRowWidth);
  assign mm_rows    = field(instr_i, systole_pkg::MatmulRowsLsb, systole_pkg::MatmulRowsWidth);
  assign mm_w_row   = field(instr_i, systole_pkg::MatmulWRowLsb, systole_pkg::MatmulWRowWidth);
  assign mm_pre_row = field(instr_i, systole_pkg::MatmulPreRowLsb, systole_pkg::MatmulPreRowWidth);

  // REQUANT
  logic [63:0] rq_acc_row, rq_dst_row, rq_rows, rq_param_row;
  assign rq_acc_row   = field(instr_i, systole_pkg::RequantAccRowLsb, systole_pkg::RequantAccRowWidth);
  assign rq_dst_row   = field(instr_i, systole_pkg::RequantDstRowLsb, systole_pkg::RequantDstRowWidth);
  assign rq_rows      = field(instr_i, systole_pkg::RequantRowsLsb, systole_pkg::RequantRowsWidth);
  assign rq_param_row = field(instr_i, systole_pkg::RequantParamRowLsb, systole_pkg::RequantParamRowWidth);

  // VMAX and VADD share the positions of their rows.
  logic [63:0] v_a_row, v_b_row, v_dst_row, v_rows;
  assign v_a_row   = field(instr_i, systole_pkg::VmaxARowLsb, systole_pkg::VmaxARowWidth);
  assign v_b_row   = field(instr_i, systole_pkg::VmaxBRowLsb, systole_pkg::VmaxBRowWidth);
  assign v_dst_row = field(instr_i, systole_pkg::VmaxDstRowLsb, systole_pkg::VmaxDstRowWidth);
  assign v_rows    = field(instr_i, systole_pkg::VmaxRowsLsb, systole_pkg::VmaxRowsWidth);

  // The vector unit's instructions (VectorUnit = 1). a_row, dst_row (VMAC: acc_row) and rows
  // (VTRANS: blocks) are at the same positions in all of them but VMUL; so are VSOFTMAX's and
  // VNORM's groups, group_rows and valid.
  logic [63:0] x_a_row, x_dst_row, x_rows, x_groups, x_group_rows, x_valid;
  logic [63:0] x_all_rows, x_b_rows, x_d_rows;
  logic        x_bcast, x_max, x_lanes;
  logic [1:0]  x_buf;
  assign x_a_row      = field(instr_i, systole_pkg::VlutARowLsb, systole_pkg::VlutARowWidth);
  assign x_dst_row    = field(instr_i, systole_pkg::VlutDstRowLsb, systole_pkg::VlutDstRowWidth);
  assign x_rows       = field(instr_i, systole_pkg::VlutRowsLsb, systole_pkg::VlutRowsWidth);
  assign x_groups     = field(instr_i, systole_pkg::VsoftmaxGroupsLsb, systole_pkg::VsoftmaxGroupsWidth);
  assign x_group_rows = field(instr_i, systole_pkg::VsoftmaxGroupRowsLsb,
                              systole_pkg::VsoftmaxGroupRowsWidth);
  assign x_valid      = field(instr_i, systole_pkg::VsoftmaxValidLsb, systole_pkg::VsoftmaxValidWidth);
  assign x_all_rows   = x_groups * x_group_rows;
  assign x_bcast      = instr_i[systole_pkg::VmulBBcastLsb];
  assign x_max        = instr_i[systole_pkg::VreduceMaxLsb];
  assign x_lanes      = instr_i[systole_pkg::VreduceLanesLsb];
  assign x_buf        = instr_i[systole_pkg::VtransBufLsb +: systole_pkg::VtransBufWidth];
  assign x_b_rows     = x_bcast ? 64'd1 : vm_rows;              // VMUL: b's run
  assign x_d_rows     = x_lanes ? x_rows : 64'd1;               // VREDUCE: the destination run

  // The fields above at their declared widths (the generic positions cover several of them).
  logic [63:0] vl_table, vs_param, vm_b_row, vm_dst_row, vm_rows, vr_valid, vc_w_row, sm_table;
  logic [63:0] vn_param;
  assign vl_table = field(instr_i, systole_pkg::VlutTableLsb, systole_pkg::VlutTableWidth);
  assign vs_param = field(instr_i, systole_pkg::VscaleParamRowLsb, systole_pkg::VscaleParamRowWidth);
  assign vm_b_row = field(instr_i, systole_pkg::VmulBRowLsb, systole_pkg::VmulBRowWidth);
  assign vm_rows  = field(instr_i, systole_pkg::VmulRowsLsb, systole_pkg::VmulRowsWidth);
  assign vm_dst_row = field(instr_i, systole_pkg::VmulDstRowLsb, systole_pkg::VmulDstRowWidth);
  assign vr_valid = field(instr_i, systole_pkg::VreduceValidLsb, systole_pkg::VreduceValidWidth);
  assign vc_w_row = field(instr_i, systole_pkg::VmacWRowLsb, systole_pkg::VmacWRowWidth);
  assign sm_table = field(instr_i, systole_pkg::VsoftmaxTableLsb, systole_pkg::VsoftmaxTableWidth);
  assign vn_param = field(instr_i, systole_pkg::VnormParamRowLsb, systole_pkg::VnormParamRowWidth);

  always_comb begin
    error_o = systole_pkg::ErrNone;
    if (opcode < systole_pkg::OpLoad || opcode > systole_pkg::OpVtrans
        || (VectorUnit == 0 && opcode >= systole_pkg::OpVlut)) begin
      error_o = systole_pkg::ErrBadOpcode;
    end else if ((instr_i & ~defined) != '0) begin
      error_o = systole_pkg::ErrReservedBits;
    end else begin
      unique case (opcode)
        systole_pkg::OpLoad, systole_pkg::OpStore: begin
          if (xfer_buf == systole_pkg::BufLut && VectorUnit == 0) begin
            error_o = systole_pkg::ErrBadField;
          end else if (xfer_buf == systole_pkg::BufAcc && elem[1:0] != 2'd0) begin
            error_o = systole_pkg::ErrBadField;
          end else if (xfer_buf == systole_pkg::BufLut && elem[0] != 1'b0) begin
            error_o = systole_pkg::ErrBadField;
          end else if (elem == 0 || x_size == 0 || y_size == 0) begin
            error_o = systole_pkg::ErrZeroLength;
          end else if (elem > row_bytes) begin
            error_o = systole_pkg::ErrOversized;
          end else if (72'(xfer_row) + 72'(xfer_rows) > 72'(buf_rows(xfer_buf))) begin
            error_o = systole_pkg::ErrBufRange;
          end else if (span > 64'(HbmBytes)) begin
            error_o = systole_pkg::ErrHbmRange;
          end
        end
        systole_pkg::OpMatmul: begin
          if (w_load && w_swap) begin
            error_o = systole_pkg::ErrBadField;
          end else if (mm_rows == 0) begin
            error_o = systole_pkg::ErrZeroLength;
          end else if (past_end(mm_a_row, mm_rows, AbufRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end else if (past_end(mm_acc_row, mm_rows, AccRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end else if (w_load && past_end(mm_w_row, 64'(ArrayDim), WbufRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end else if (w_preload && past_end(mm_pre_row, 64'(ArrayDim), WbufRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end
        end
        systole_pkg::OpRequant: begin
          if (rq_rows == 0) begin
            error_o = systole_pkg::ErrZeroLength;
          end else if (past_end(rq_acc_row, rq_rows, AccRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end else if (past_end(rq_param_row, 64'd3, AccRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end else if (past_end(rq_dst_row, rq_rows, AbufRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end
        end
        systole_pkg::OpVmax, systole_pkg::OpVadd: begin
          if (v_rows == 0) begin
            error_o = systole_pkg::ErrZeroLength;
          end else if (overlap_bad(v_a_row, v_dst_row, v_rows)) begin
            error_o = systole_pkg::ErrBadField;
          end else if (overlap_bad(v_b_row, v_dst_row, v_rows)) begin
            error_o = systole_pkg::ErrBadField;
          end else if (past_end(v_a_row, v_rows, AbufRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end else if (past_end(v_b_row, v_rows, AbufRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end else if (past_end(v_dst_row, v_rows, AbufRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end
        end
        systole_pkg::OpVlut, systole_pkg::OpVscale: begin
          if (VectorUnit == 0) begin
            // BAD_OPCODE above; a build without the unit has no logic for these checks
          end else if (x_rows == 0) begin
            error_o = systole_pkg::ErrZeroLength;
          end else if (overlap_bad(x_a_row, x_dst_row, x_rows)) begin
            error_o = systole_pkg::ErrBadField;
          end else if (past_end(x_a_row, x_rows, AbufRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end else if (past_end(x_dst_row, x_rows, AbufRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end else if (opcode == systole_pkg::OpVlut
                       && past_end(vl_table * TableRows, 64'(TableRows), LutRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end else if (opcode == systole_pkg::OpVscale && past_end(vs_param, 64'd4, AccRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end
        end
        systole_pkg::OpVmul: begin
          if (VectorUnit == 0) begin
            // BAD_OPCODE above; a build without the unit has no logic for these checks
          end else if (vm_rows == 0) begin
            error_o = systole_pkg::ErrZeroLength;
          end else if (overlap_bad(x_a_row, vm_dst_row, vm_rows)) begin
            error_o = systole_pkg::ErrBadField;
          end else if (overlap_runs(vm_b_row, x_b_rows, vm_dst_row, vm_rows)) begin
            error_o = systole_pkg::ErrBadField;
          end else if (past_end(x_a_row, vm_rows, AbufRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end else if (past_end(vm_b_row, x_b_rows, AbufRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end else if (past_end(vm_dst_row, vm_rows, AbufRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end
        end
        systole_pkg::OpVreduce: begin
          if (VectorUnit == 0) begin
            // BAD_OPCODE above; a build without the unit has no logic for these checks
          end else if (x_rows == 0) begin
            error_o = systole_pkg::ErrZeroLength;
          end else if (x_lanes && (vr_valid == 0 || vr_valid > 64'(ArrayDim))) begin
            error_o = systole_pkg::ErrBadField;
          end else if (!x_lanes && vr_valid != 0) begin
            error_o = systole_pkg::ErrBadField;
          end else if (x_max && overlap_runs(x_a_row, x_rows, x_dst_row, x_d_rows)) begin
            error_o = systole_pkg::ErrBadField;
          end else if (past_end(x_a_row, x_rows, AbufRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end else if (past_end(x_dst_row, x_d_rows, x_max ? AbufRows : AccRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end
        end
        systole_pkg::OpVmac: begin
          if (VectorUnit == 0) begin
            // BAD_OPCODE above; a build without the unit has no logic for these checks
          end else if (x_rows == 0) begin
            error_o = systole_pkg::ErrZeroLength;
          end else if (past_end(x_a_row, x_rows, AbufRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end else if (past_end(x_dst_row, x_rows, AccRows)) begin  // acc_row
            error_o = systole_pkg::ErrBufRange;
          end else if (past_end(vc_w_row, 64'd1, WbufRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end
        end
        systole_pkg::OpVsoftmax, systole_pkg::OpVnorm: begin
          if (VectorUnit == 0) begin
            // BAD_OPCODE above; a build without the unit has no logic for these checks
          end else if (x_groups == 0 || x_group_rows == 0 || x_valid == 0) begin
            error_o = systole_pkg::ErrZeroLength;
          end else if (x_valid > x_group_rows * 64'(ArrayDim)) begin
            error_o = systole_pkg::ErrBadField;
          end else if (overlap_bad(x_a_row, x_dst_row, x_all_rows)) begin
            error_o = systole_pkg::ErrBadField;
          end else if (past_end(x_a_row, x_all_rows, AbufRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end else if (past_end(x_dst_row, x_all_rows, AbufRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end else if (opcode == systole_pkg::OpVsoftmax
                       && past_end(sm_table * TableRows, 64'(TableRows), LutRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end else if (opcode == systole_pkg::OpVnorm
                       && past_end(vn_param, 64'd3 * x_group_rows, AccRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end
        end
        systole_pkg::OpVtrans: begin
          if (VectorUnit == 0) begin
            // BAD_OPCODE above; a build without the unit has no logic for these checks
          end else if (x_buf != systole_pkg::BufAbuf && x_buf != systole_pkg::BufWbuf) begin
            error_o = systole_pkg::ErrBadField;
          end else if (x_rows == 0) begin  // blocks
            error_o = systole_pkg::ErrZeroLength;
          end else if (x_buf == systole_pkg::BufAbuf
                       && overlap_bad(x_a_row, x_dst_row, x_rows * 64'(ArrayDim))) begin
            error_o = systole_pkg::ErrBadField;
          end else if (past_end(x_a_row, x_rows * 64'(ArrayDim), AbufRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end else if (past_end(x_dst_row, x_rows * 64'(ArrayDim),
                                x_buf == systole_pkg::BufAbuf ? AbufRows : WbufRows)) begin
            error_o = systole_pkg::ErrBufRange;
          end
        end
        default: ;
      endcase
    end
  end

endmodule
