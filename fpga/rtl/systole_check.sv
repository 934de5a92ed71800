// The static checks of the contract's section 8.2, in its order: what an instruction word is
// wrong with, from the word alone (NO_WEIGHTS depends on the array's state and is checked at the
// issue stage). Purely combinational; all sums are wide enough never to overflow.
module systole_check
  import systole_pkg::*;
#(
  parameter int unsigned ArrayDim = 16,
  parameter int unsigned AbufRows = 4096,
  parameter int unsigned WbufRows = 4096,
  parameter int unsigned AccRows  = 4096,
  parameter int unsigned HbmMb    = 16384
) (
  input  logic [255:0] instr_i,
  output logic [7:0]   error_o
);

  localparam logic [55:0] HbmBytes = 56'(HbmMb) << 20;

  function automatic logic [63:0] field(logic [255:0] w, int unsigned lsb, int unsigned width);
    return 64'((w >> lsb) & ((256'(1) << width) - 256'(1)));
  endfunction

  function automatic logic [39:0] buf_rows(logic [1:0] b);
    unique case (b)
      BufAbuf: return 40'(AbufRows);
      BufWbuf: return 40'(WbufRows);
      default: return 40'(AccRows);
    endcase
  endfunction

  // One past the last row of a run starting at `first`, against the buffer's size.
  function automatic logic past_end(logic [63:0] first, logic [63:0] rows, int unsigned size);
    return 72'(first) + 72'(rows) > 72'(size);
  endfunction

  function automatic logic overlap_bad(logic [63:0] src, logic [63:0] dst, logic [63:0] rows);
    return src != dst && src < dst + rows && dst < src + rows;
  endfunction

  logic [7:0]  opcode;
  logic [255:0] defined;
  assign opcode = instr_i[7:0];

  always_comb begin
    unique case (opcode)
      OpLoad:    defined = LoadFieldBits;
      OpStore:   defined = StoreFieldBits;
      OpMatmul:  defined = MatmulFieldBits;
      OpRequant: defined = RequantFieldBits;
      OpVmax:    defined = VmaxFieldBits;
      OpVadd:    defined = VaddFieldBits;
      OpFence:   defined = FenceFieldBits;
      default:   defined = HaltFieldBits;
    endcase
  end

  // LOAD and STORE share the positions of buf, row, elem_bytes, hbm_addr, sizes and strides.
  logic        is_load;
  logic [1:0]  xfer_buf;
  logic [63:0] xfer_row, elem, hbm_addr, x_size, y_size, x_stride, y_stride;
  logic [63:0] x_pad0, x_pad1, y_pad0, y_pad1, xfer_rows, row_bytes;
  logic [63:0] span;
  assign is_load  = opcode == OpLoad;
  assign xfer_buf = instr_i[LoadBufLsb +: LoadBufWidth];
  assign xfer_row = field(instr_i, LoadDstRowLsb, LoadDstRowWidth);
  assign elem     = field(instr_i, LoadElemBytesLsb, LoadElemBytesWidth);
  assign hbm_addr = field(instr_i, LoadHbmAddrLsb, LoadHbmAddrWidth);
  assign x_size   = field(instr_i, LoadXSizeLsb, LoadXSizeWidth);
  assign y_size   = field(instr_i, LoadYSizeLsb, LoadYSizeWidth);
  assign x_stride = field(instr_i, LoadXStrideLsb, LoadXStrideWidth);
  assign y_stride = field(instr_i, LoadYStrideLsb, LoadYStrideWidth);
  assign x_pad0   = is_load ? field(instr_i, LoadXPad0Lsb, LoadXPad0Width) : '0;
  assign x_pad1   = is_load ? field(instr_i, LoadXPad1Lsb, LoadXPad1Width) : '0;
  assign y_pad0   = is_load ? field(instr_i, LoadYPad0Lsb, LoadYPad0Width) : '0;
  assign y_pad1   = is_load ? field(instr_i, LoadYPad1Lsb, LoadYPad1Width) : '0;
  assign xfer_rows = (x_pad0 + x_size + x_pad1) * (y_pad0 + y_size + y_pad1);
  assign row_bytes = xfer_buf == BufAcc ? 64'(4 * ArrayDim) : 64'(ArrayDim);
  // One past the last byte touched, when sizes are not 0 (checked before this is used).
  assign span = hbm_addr + (y_size - 1) * y_stride + (x_size - 1) * x_stride + elem;

  // MATMUL
  logic        w_load, w_swap, w_preload;
  logic [63:0] mm_a_row, mm_acc_row, mm_rows, mm_w_row, mm_pre_row;
  assign w_load     = instr_i[MatmulWLoadLsb];
  assign w_swap     = instr_i[MatmulWSwapLsb];
  assign w_preload  = instr_i[MatmulWPreloadLsb];
  assign mm_a_row   = field(instr_i, MatmulARowLsb, MatmulARowWidth);
  assign mm_acc_row = field(instr_i, MatmulAccRowLsb, MatmulAccRowWidth);
  assign mm_rows    = field(instr_i, MatmulRowsLsb, MatmulRowsWidth);
  assign mm_w_row   = field(instr_i, MatmulWRowLsb, MatmulWRowWidth);
  assign mm_pre_row = field(instr_i, MatmulPreRowLsb, MatmulPreRowWidth);

  // REQUANT
  logic [63:0] rq_acc_row, rq_dst_row, rq_rows, rq_param_row;
  assign rq_acc_row   = field(instr_i, RequantAccRowLsb, RequantAccRowWidth);
  assign rq_dst_row   = field(instr_i, RequantDstRowLsb, RequantDstRowWidth);
  assign rq_rows      = field(instr_i, RequantRowsLsb, RequantRowsWidth);
  assign rq_param_row = field(instr_i, RequantParamRowLsb, RequantParamRowWidth);

  // VMAX and VADD share the positions of their rows.
  logic [63:0] v_a_row, v_b_row, v_dst_row, v_rows;
  assign v_a_row   = field(instr_i, VmaxARowLsb, VmaxARowWidth);
  assign v_b_row   = field(instr_i, VmaxBRowLsb, VmaxBRowWidth);
  assign v_dst_row = field(instr_i, VmaxDstRowLsb, VmaxDstRowWidth);
  assign v_rows    = field(instr_i, VmaxRowsLsb, VmaxRowsWidth);

  always_comb begin
    error_o = ErrNone;
    if (opcode < OpLoad || opcode > OpHalt) begin
      error_o = ErrBadOpcode;
    end else if ((instr_i & ~defined) != '0) begin
      error_o = ErrReservedBits;
    end else begin
      unique case (opcode)
        OpLoad, OpStore: begin
          if (xfer_buf == 2'd3) begin
            error_o = ErrBadField;
          end else if (xfer_buf == BufAcc && elem[1:0] != 2'd0) begin
            error_o = ErrBadField;
          end else if (elem == 0 || x_size == 0 || y_size == 0) begin
            error_o = ErrZeroLength;
          end else if (elem > row_bytes) begin
            error_o = ErrOversized;
          end else if (72'(xfer_row) + 72'(xfer_rows) > 72'(buf_rows(xfer_buf))) begin
            error_o = ErrBufRange;
          end else if (span > 64'(HbmBytes)) begin
            error_o = ErrHbmRange;
          end
        end
        OpMatmul: begin
          if (w_load && w_swap) begin
            error_o = ErrBadField;
          end else if (mm_rows == 0) begin
            error_o = ErrZeroLength;
          end else if (past_end(mm_a_row, mm_rows, AbufRows)) begin
            error_o = ErrBufRange;
          end else if (past_end(mm_acc_row, mm_rows, AccRows)) begin
            error_o = ErrBufRange;
          end else if (w_load && past_end(mm_w_row, 64'(ArrayDim), WbufRows)) begin
            error_o = ErrBufRange;
          end else if (w_preload && past_end(mm_pre_row, 64'(ArrayDim), WbufRows)) begin
            error_o = ErrBufRange;
          end
        end
        OpRequant: begin
          if (rq_rows == 0) begin
            error_o = ErrZeroLength;
          end else if (past_end(rq_acc_row, rq_rows, AccRows)) begin
            error_o = ErrBufRange;
          end else if (past_end(rq_param_row, 64'd3, AccRows)) begin
            error_o = ErrBufRange;
          end else if (past_end(rq_dst_row, rq_rows, AbufRows)) begin
            error_o = ErrBufRange;
          end
        end
        OpVmax, OpVadd: begin
          if (v_rows == 0) begin
            error_o = ErrZeroLength;
          end else if (overlap_bad(v_a_row, v_dst_row, v_rows)) begin
            error_o = ErrBadField;
          end else if (overlap_bad(v_b_row, v_dst_row, v_rows)) begin
            error_o = ErrBadField;
          end else if (past_end(v_a_row, v_rows, AbufRows)) begin
            error_o = ErrBufRange;
          end else if (past_end(v_b_row, v_rows, AbufRows)) begin
            error_o = ErrBufRange;
          end else if (past_end(v_dst_row, v_rows, AbufRows)) begin
            error_o = ErrBufRange;
          end
        end
        default: ;
      endcase
    end
  end

endmodule
